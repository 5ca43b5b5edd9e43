import {performance} from 'node:perf_hooks'
import {openWorkspace} from '../engine/workspace.js'
import {runApply, runPlan} from '../engine/operations.js'
import {refreshLive} from '../engine/plan/refresh.js'
import {renderPlanHuman} from '../cli/render/plan-human.js'
import {plainStyle} from '../cli/render/style.js'

/**
 * The measured side of bench/plan.ts, in its own process: `apply DIR P` (set-up), `plan DIR P` or `bounds DIR P`.
 * Prints one JSON line. CPU time covers load + plan + render only. `bounds` times the bare refreshes (every card by
 * GET, every listing by pages), after one list refresh to warm the connections, so the ratios are never flattered by
 * the plan's own warm-up; it runs in a process of its own so that the plan's request counts are the plan's alone.
 */
const [mode, dir, p] = process.argv.slice(2)
const parallelism = Number(p)
const cpu0 = process.cpuUsage()
const t0 = performance.now()
const {workspace, diagnostics} = await openWorkspace(dir!)
if (!workspace) throw new Error(`project has errors: ${JSON.stringify(diagnostics.slice(0, 3))}`)
const t1 = performance.now()
try {
  if (mode === 'apply') {
    const run = await runApply(workspace, {
      autoApprove: true, allowDestroy: false, allowIrreversible: true, parallelism, failFast: false, lockTimeoutMs: 0, refresh: true,
    })
    print({failed: run.result?.failed ?? -1})
  } else if (mode === 'bounds') {
    const state = await workspace.store.read()
    const gateway = await workspace.gateway()
    const refresh = (strategy: 'get' | 'list') => refreshLive(state, gateway, {parallelism, strategy})
    await refresh('list')
    const ms = async (strategy: 'get' | 'list') => {
      const t = performance.now()
      await refresh(strategy)
      return performance.now() - t
    }
    print({get_ms: await ms('get'), list_ms: await ms('list')})
  } else {
    const run = await runPlan(workspace, {refresh: true, parallelism, lock: true, lockTimeoutMs: 0})
    const t2 = performance.now()
    renderPlanHuman(run.plan, plainStyle)
    const t3 = performance.now()
    const cpu = process.cpuUsage(cpu0)
    const maxRss = process.resourceUsage().maxRSS
    print({
      load_ms: t1 - t0,
      plan_ms: t2 - t1,
      render_ms: t3 - t2,
      wall_ms: t3 - t0,
      cpu_user_ms: cpu.user / 1000,
      cpu_system_ms: cpu.system / 1000,
      max_rss_kb: maxRss,
      changes: run.plan.changes.filter((c) => c.action !== 'no-op').length,
      errors: run.plan.diagnostics.filter((d) => d.severity === 'error').length,
    })
  }
} finally {
  await workspace.close()
}

function print(o: object): void {
  process.stdout.write(JSON.stringify(o) + '\n')
}
