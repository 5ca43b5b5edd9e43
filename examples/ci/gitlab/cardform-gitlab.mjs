#!/usr/bin/env node
// The two GitLab API calls the cardform pipeline (.gitlab-ci.yml beside this file) needs; Node 20, no dependencies.
//
//   node cardform-gitlab.mjs note plan.md     post plan.md as the merge request's cardform note, or edit the note
//                                             posted before: the one whose first line is the same marker
//                                             <!-- cardform:plan project=DIR --> (cardform writes it).
//   node cardform-gitlab.mjs fetch-plan DIR   for a commit on the default branch: its merged merge request → that
//                                             merge request's latest pipeline, which must have succeeded and have
//                                             planned the merge request's last commit → the plan job's plan.json,
//                                             written to DIR/plan.json; DIR/allow-destroy says whether the merge
//                                             request carries the label cardform:allow-destroy.
//
// It authenticates with CARDFORM_GITLAB_TOKEN, a project access token (role Reporter, scope api): CI_JOB_TOKEN
// cannot write merge request notes nor list a merge request's pipelines. The rest comes from GitLab's predefined
// CI variables.

import {mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {pathToFileURL} from 'node:url'

const env = process.env
const api = `${env.CI_API_V4_URL}/projects/${encodeURIComponent(env.CI_PROJECT_ID ?? '')}`
export const PLAN_JOB = 'cardform-plan'
export const ALLOW_DESTROY_LABEL = 'cardform:allow-destroy'

async function gitlab(method, route, body) {
  const response = await fetch(`${api}${route}`, {
    method,
    headers: {'PRIVATE-TOKEN': env.CARDFORM_GITLAB_TOKEN ?? '', ...(body ? {'Content-Type': 'application/json'} : {})},
    ...(body ? {body: JSON.stringify(body)} : {}),
  })
  if (!response.ok) throw new Error(`GitLab API ${method} ${route}: ${response.status} ${await response.text()}`)
  return response
}

const json = async (route) => (await gitlab('GET', route)).json()

/** Every page of a list (GitLab pages with ?page=N and the x-next-page header). */
async function all(route) {
  const out = []
  for (let page = '1'; page; ) {
    const response = await gitlab('GET', `${route}${route.includes('?') ? '&' : '?'}per_page=100&page=${page}`)
    out.push(...(await response.json()))
    page = response.headers.get('x-next-page') ?? ''
  }
  return out
}

/** The note to edit: posted by a user (not the system) and starting with exactly the marker line. */
export function findPlanNote(notes, marker) {
  return notes.find((n) => !n.system && (n.body ?? '').split('\n', 1)[0] === marker)
}

async function note(file) {
  const plan = readFileSync(file, 'utf8')
  const marker = plan.split('\n', 1)[0]
  if (!marker.startsWith('<!-- cardform:plan ')) throw new Error(`${file} does not start with the cardform marker`)
  const body = `${plan.trimEnd()}\n\n---\n<sub>Plan of ${env.CI_COMMIT_SHORT_SHA} · [job and saved plan artifact](${env.CI_JOB_URL})</sub>\n`
  const notes = `/merge_requests/${env.CI_MERGE_REQUEST_IID}/notes`
  const mine = findPlanNote(await all(`${notes}?sort=asc`), marker)
  if (mine) await gitlab('PUT', `${notes}/${mine.id}`, {body})
  else await gitlab('POST', notes, {body})
}

async function fetchPlan(dir) {
  const mrs = await json(`/repository/commits/${env.CI_COMMIT_SHA}/merge_requests`)
  const mr = mrs.find((m) => m.state === 'merged' && m.target_branch === env.CI_DEFAULT_BRANCH)
  if (!mr) throw new Error(`${env.CI_COMMIT_SHA} did not come from a merged merge request: nothing reviewed to apply`)
  const full = await json(`/merge_requests/${mr.iid}`)
  const pipeline = full.head_pipeline
  if (!pipeline || pipeline.status !== 'success') {
    throw new Error(`the latest pipeline of !${mr.iid} did not succeed (${pipeline?.status ?? 'none'}): re-run its ${PLAN_JOB} job, then this job`)
  }
  const jobs = await all(`/pipelines/${pipeline.id}/jobs?scope[]=success`)
  const job = jobs.find((j) => j.name === PLAN_JOB)
  if (!job) throw new Error(`pipeline ${pipeline.id} of !${mr.iid} has no successful ${PLAN_JOB} job`)
  const file = async (name) => (await gitlab('GET', `/jobs/${job.id}/artifacts/${name}`)).text()
  // A merged results pipeline runs on a temporary merge commit, so the plan job records the commit it planned.
  const planned = (await file('plan-commit.txt')).trim()
  if (planned !== full.sha) throw new Error(`the plan of !${mr.iid} is of ${planned}, not of its last commit ${full.sha}: re-run its pipeline`)
  mkdirSync(dir, {recursive: true})
  writeFileSync(path.join(dir, 'plan.json'), await file('plan.json'))
  writeFileSync(path.join(dir, 'allow-destroy'), String((full.labels ?? []).includes(ALLOW_DESTROY_LABEL)))
  console.log(`The plan of !${mr.iid} (${full.sha}), job ${job.web_url}`)
}

// Run as a script (imported by a test, it only defines its functions).
if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const [command, arg] = process.argv.slice(2)
  if (command === 'note' && arg) await note(arg)
  else if (command === 'fetch-plan' && arg) await fetchPlan(arg)
  else {
    console.error('usage: cardform-gitlab.mjs note PLAN.md | fetch-plan DIR')
    process.exit(2)
  }
}
