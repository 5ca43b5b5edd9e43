import {cpSync, existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {Ajv} from 'ajv'
import addFormatsModule from 'ajv-formats'
import {describe, expect, it} from 'vitest'
import {parse} from 'yaml'
import {planMarker} from '../../cli/render/plan-markdown.js'
import {packageRoot} from '../../engine/paths.js'
import {loadProject} from '../../engine/spec/load-project.js'

/**
 * The CI templates in examples/ci: valid against the published schemas of their platforms (vendored in
 * test/fixtures/ci-schemas, sources in its README), doing what they promise (plan with --markdown, keep the saved
 * plan, find the comment by its marker, apply exactly the saved plan behind an environment), and calling cardform
 * only with flags it has (checked against oclif.manifest.json, which the build writes).
 */

const addFormats = addFormatsModule.default
const root = (...p: string[]) => path.join(packageRoot, ...p)
const readYaml = (file: string) => parse(readFileSync(root(file), 'utf8')) as Record<string, any>

function schemaErrors(schemaFile: string, doc: unknown): string {
  // Third-party schemas: draft-07, with keywords of their own (markdownDescription…), hence strict: false.
  const ajv = new Ajv({strict: false, allErrors: true})
  addFormats(ajv)
  const validate = ajv.compile(JSON.parse(readFileSync(root('test/fixtures/ci-schemas', schemaFile), 'utf8')))
  return validate(doc) ? '' : ajv.errorsText(validate.errors, {separator: '\n'})
}

const GITHUB = 'examples/ci/github/cardform.yml'
const GITLAB = 'examples/ci/gitlab/.gitlab-ci.yml'
const github = readYaml(GITHUB)
const gitlab = readYaml(GITLAB)

/** Every shell line of a GitHub job's `run:` steps, or of a GitLab job's `script:`. */
const githubRuns = (job: string): string[] => github.jobs[job].steps.flatMap((s: {run?: string}) => (s.run ? s.run.split('\n') : []))
const githubStep = (job: string, uses: string) => github.jobs[job].steps.find((s: {uses?: string}) => s.uses?.startsWith(uses))
const gitlabScript = (job: string): string[] => gitlab[job].script

/** The cardform invocations in shell lines: command and flags (`--name`, or `-C`), as the shell would split them. */
function invocations(lines: string[]): {command: string; flags: string[]; args: string[]}[] {
  const out: {command: string; flags: string[]; args: string[]}[] = []
  for (const line of lines) {
    const m = /(?:^|[;&|]\s*|\bthen\s+)cardform\s+(.*)$/.exec(line.trim())
    if (!m) continue
    const words = m[1]!.split(/\s+(?:>|\|\|).*$/)[0]!.split(/\s+/)
    const flags = words.filter((w) => w.startsWith('-')).map((w) => w.split('=')[0]!)
    out.push({command: words[0]!, flags, args: words})
  }
  return out
}

interface ManifestFlag {
  char?: string
  allowNo?: boolean
}

function manifestFlags(command: string): Record<string, ManifestFlag> {
  const file = root('oclif.manifest.json')
  if (!existsSync(file)) throw new Error('oclif.manifest.json is missing: run `npm run build` first')
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as {commands: Record<string, {flags: Record<string, ManifestFlag>}>}
  const c = manifest.commands[command]
  if (!c) throw new Error(`cardform has no command ${command}`)
  return c.flags
}

function unknownFlags(lines: string[]): string[] {
  const unknown: string[] = []
  for (const {command, flags} of invocations(lines)) {
    const known = manifestFlags(command)
    for (const f of flags) {
      const ok = f.startsWith('--')
        ? f.slice(2) in known || (f.startsWith('--no-') && known[f.slice(5)]?.allowNo === true)
        : Object.values(known).some((k) => k.char === f.slice(1))
      if (!ok) unknown.push(`cardform ${command} ${f}`)
    }
  }
  return unknown
}

describe('the flag check', () => {
  it('finds cardform in a shell line and knows a misspelt flag from a real one', () => {
    expect(unknownFlags(['x=1; cardform plan -C . --markdown-limt 5 --no-progress > plan.md || code=$?'])).toEqual(['cardform plan --markdown-limt'])
    expect(unknownFlags(['if true; then cardform apply --allow-destroy --lock-timeout=5m plan.json; fi'])).toEqual([])
    expect(unknownFlags(['cardform apply --lock=false plan.json'])).toEqual(['cardform apply --lock'])
  })
})

describe('examples/ci/github/cardform.yml', () => {
  it('is valid against the published GitHub workflow schema (SchemaStore)', () => {
    expect(schemaErrors('github-workflow.json', github)).toBe('')
  })

  it('the schema check is not vacuous: a misspelt key fails it', () => {
    const broken = structuredClone(github)
    broken.jobs.plan['runs-onn'] = broken.jobs.plan['runs-on']
    expect(schemaErrors('github-workflow.json', broken)).not.toBe('')
  })

  it('plans pull requests into main and applies pushes to main', () => {
    expect(github.on.pull_request.branches).toEqual(['main'])
    expect(github.on.push.branches).toEqual(['main'])
    expect(github.jobs.plan.if).toContain("github.event_name == 'pull_request'")
    expect(github.jobs.apply.if).toContain("github.event_name == 'push'")
  })

  it('plan: saves the plan and prints the markdown comment, within GitHub’s limit, exit 2 counted as success', () => {
    const [plan, ...rest] = invocations(githubRuns('plan'))
    expect(rest).toEqual([])
    expect(plan!.command).toBe('plan')
    expect(plan!.args).toEqual(expect.arrayContaining(['--out', 'plan.json', '--markdown', '--detailed-exitcode', '--markdown-limit']))
    expect(Number(plan!.args[plan!.args.indexOf('--markdown-limit') + 1])).toBeLessThanOrEqual(65_536)
    expect(githubRuns('plan').join('\n')).toMatch(/> plan\.md \|\| code=\$\?/)
    expect(githubRuns('plan').join('\n')).toContain('if [ "$code" = 2 ]')
  })

  it('plan: uploads the saved plan as the artifact the apply job downloads', () => {
    const upload = githubStep('plan', 'actions/upload-artifact@')
    expect(upload.with.name).toBe('cardform-plan')
    expect(upload.with.path).toContain('plan.json')
    expect(githubStep('apply', 'actions/download-artifact@').with).toMatchObject({name: 'cardform-plan', 'run-id': '${{ steps.find-plan.outputs.run-id }}'})
  })

  it('plan: edits the comment that starts with the marker line, or creates it', () => {
    const script: string = githubStep('plan', 'actions/github-script@').with.script
    expect(planMarker('any').startsWith('<!-- cardform:plan ')).toBe(true)
    expect(script).toContain("plan.split('\\n', 1)[0]")
    expect(script).toContain("marker.startsWith('<!-- cardform:plan ')")
    expect(script).toContain("split('\\n', 1)[0] === marker")
    expect(script).toMatch(/listComments[\s\S]*updateComment[\s\S]*createComment/)
    expect(github.jobs.plan.permissions['pull-requests']).toBe('write')
  })

  it('apply: runs behind the production environment, one at a time, with exactly the saved plan', () => {
    const apply = github.jobs.apply
    expect(apply.environment).toBe('production')
    expect(apply.concurrency).toMatchObject({'cancel-in-progress': false, queue: 'max'})
    expect(apply.permissions.actions).toBe('read')
    const calls = invocations(githubRuns('apply'))
    expect(calls.map((c) => c.command)).toEqual(['apply', 'plan'])
    expect(calls[0]!.args.at(-1)).toBe('"$RUNNER_TEMP/cardform-plan/plan.json"')
    expect(calls[1]!.flags).toContain('--detailed-exitcode')
    const find: string = apply.steps.find((s: {id?: string}) => s.id === 'find-plan').with.script
    expect(find).toContain('listPullRequestsAssociatedWithCommit')
    expect(find).toMatch(/listWorkflowRuns\(\{[^}]*event: 'pull_request', head_sha: pr\.head\.sha, status: 'success'/)
  })

  it('calls cardform only with flags it has', () => {
    expect(unknownFlags([...githubRuns('plan'), ...githubRuns('apply')])).toEqual([])
  })
})

describe('examples/ci/gitlab/.gitlab-ci.yml', () => {
  it('is valid against GitLab’s published CI schema', () => {
    expect(schemaErrors('gitlab-ci.json', gitlab)).toBe('')
  })

  it('the schema check is not vacuous: an unknown job key fails it', () => {
    const broken = structuredClone(gitlab)
    broken['cardform-apply'].resource_groupp = 'x'
    expect(schemaErrors('gitlab-ci.json', broken)).not.toBe('')
  })

  it('plan: on merge requests, saves the plan, keeps it as an artifact and posts the note', () => {
    const job = gitlab['cardform-plan']
    expect(job.rules[0].if).toContain('merge_request_event')
    const [plan, ...rest] = invocations(gitlabScript('cardform-plan'))
    expect(rest).toEqual([])
    expect(plan!.args).toEqual(expect.arrayContaining(['--out', 'plan.json', '--markdown', '--detailed-exitcode', '--markdown-limit']))
    expect(job.artifacts.paths).toEqual(expect.arrayContaining(['plan.json', 'plan.md', 'plan-commit.txt']))
    expect(gitlabScript('cardform-plan')).toContain('if [ -s plan.md ]; then node ci/cardform-gitlab.mjs note plan.md; fi')
  })

  it('apply: manual on the default branch, behind the production environment and a resource group, with the saved plan', () => {
    const job = gitlab['cardform-apply']
    expect(job.rules[0]).toMatchObject({if: '$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH', when: 'manual'})
    expect(job.environment.name).toBe('production')
    expect(job.resource_group).toBeTruthy()
    expect(gitlabScript('cardform-apply')[0]).toBe('node ci/cardform-gitlab.mjs fetch-plan reviewed-plan')
    const calls = invocations(gitlabScript('cardform-apply'))
    expect(calls.map((c) => c.command)).toEqual(['apply', 'plan'])
    expect(calls[0]!.args.at(-1)).toBe('reviewed-plan/plan.json')
  })

  it('calls cardform only with flags it has', () => {
    expect(unknownFlags([...gitlabScript('cardform-plan'), ...gitlabScript('cardform-apply')])).toEqual([])
  })

  it('the note helper edits only the note that starts with exactly this project’s marker', async () => {
    const {findPlanNote, PLAN_JOB} = (await import(root('examples/ci/gitlab/cardform-gitlab.mjs'))) as {
      findPlanNote: (notes: {id: number; body: string; system: boolean}[], marker: string) => {id: number} | undefined
      PLAN_JOB: string
    }
    expect(PLAN_JOB).toBe('cardform-plan')
    const marker = planMarker('cards/prod')
    const notes = [
      {id: 1, system: true, body: `${marker}\nchanged the description`},
      {id: 2, system: false, body: `quoting it: ${marker}`},
      {id: 3, system: false, body: `${planMarker('cards/prod-2')}\n## cardform plan`},
      {id: 4, system: false, body: `${marker}\n## cardform plan`},
    ]
    expect(findPlanNote(notes, marker)?.id).toBe(4)
    expect(findPlanNote(notes.slice(0, 3), marker)).toBeUndefined()
  })
})

describe('examples/ci/cardform.yaml', () => {
  it('is a valid project configuration once the CI variables are set', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cardform-ci-'))
    try {
      cpSync(root('examples/ci/cardform.yaml'), path.join(dir, 'cardform.yaml'))
      cpSync(root('examples/quickstart/cards'), path.join(dir, 'cards'), {recursive: true})
      const env = {
        WECHATPAY_MCHID: '1900000001',
        WECHATPAY_SERIAL: '5157F09EFDC096DE15EBE81A47057A7232F1B8E1',
        WECHATPAY_PRIVATE_KEY_FILE: '/run/keys/apiclient_key.pem',
        WECHATPAY_PUBLIC_KEY_ID: 'PUB_KEY_ID_0112345678901234567890123456789012',
        WECHATPAY_PUBLIC_KEY_FILE: '/run/keys/pub_key.pem',
        CARDFORM_PG_URL: 'postgres://cardform@db:5432/cardform',
      }
      const project = await loadProject(dir, {env, workers: 0})
      expect(project.diagnostics).toEqual([])
      expect(project.config).toMatchObject({backend: {type: 'pg', workspace: 'production'}})
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })
})
