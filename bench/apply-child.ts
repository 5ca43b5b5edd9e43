import {performance} from 'node:perf_hooks'
import {openWorkspace} from '../engine/workspace.js'
import {runApply} from '../engine/operations.js'
import type {Step} from '../engine/model/plan.js'

/**
 * The measured side of bench/apply.ts, in its own process: `DIR P bare|no-bare`. Prints one JSON line.
 *
 * First `cardform apply --auto-approve` of the project (load specs, plan, create every card, write state), timed
 * and with its CPU. Then, with `bare`, the same API calls (each change's steps, in the same order, at the same
 * concurrency, through the same gateway on warm connections) with fresh idempotency keys and nothing else: no specs,
 * no plan, no state. The difference of the two CPU times is what apply costs outside the network (the client's
 * signing and HTTP work is in both).
 */
const [dir, p, bareMode] = process.argv.slice(2)
const parallelism = Number(p)
const cpu0 = process.cpuUsage()
const t0 = performance.now()
const {workspace, diagnostics} = await openWorkspace(dir!)
if (!workspace) throw new Error(`project has errors: ${JSON.stringify(diagnostics.slice(0, 3))}`)
try {
  const run = await runApply(workspace, {
    autoApprove: true, allowDestroy: false, allowIrreversible: true, parallelism, failFast: false, lockTimeoutMs: 0, refresh: true,
  })
  const t1 = performance.now()
  const cpuApply = process.cpuUsage(cpu0)
  const rssApply = process.resourceUsage().maxRSS
  const result = {
    wall_ms: t1 - t0,
    cpu_ms: (cpuApply.user + cpuApply.system) / 1000,
    max_rss_kb: rssApply,
    failed: run.result?.failed ?? -1,
    done: run.result?.done ?? 0,
    serial: run.state?.serial ?? 0,
    calls: run.plan.changes.reduce((n, c) => n + c.steps.length, 0),
  }
  if (bareMode !== 'bare') {
    print(result)
  } else {
    const gateway = await workspace.gateway()
    const queue = run.plan.changes.map((c) => ({kind: c.kind, steps: c.steps}))
    const cpu2 = process.cpuUsage()
    const t2 = performance.now()
    const worker = async () => {
      for (let c = queue.shift(); c; c = queue.shift()) await replay(gateway, c.kind, c.steps)
    }
    await Promise.all(Array.from({length: parallelism}, worker))
    const cpuBare = process.cpuUsage(cpu2)
    print({...result, bare_wall_ms: performance.now() - t2, bare_cpu_ms: (cpuBare.user + cpuBare.system) / 1000})
  }
} finally {
  await workspace.close()
}

/** One change's calls again, under a new idempotency key (so the API creates a new card rather than answering with the old one). */
async function replay(gateway: Awaited<ReturnType<NonNullable<typeof workspace>['gateway']>>, kind: string, steps: Step[]): Promise<void> {
  let id: string | undefined
  for (const step of steps) {
    switch (step.op) {
      case 'create': {
        const key = `bare-${step.out_request_no}`
        id = (await gateway.create(kind, {...step.body, out_request_no: key}, key)).remoteId
        break
      }
      case 'patch':
        await gateway.patch(kind, id!, step.body)
        break
      case 'rights':
        await gateway.setRights(kind, id!, step.body)
        break
      default:
        throw new Error(`the apply benchmark creates cards only; its plan has a ${step.op} step`)
    }
  }
}

function print(o: object): void {
  process.stdout.write(JSON.stringify(o) + '\n')
}
