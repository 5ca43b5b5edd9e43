import {performance} from 'node:perf_hooks'
import {openWorkspace} from '../engine/workspace.js'
import {runApply, runPlan} from '../engine/operations.js'
import {refreshLive} from '../engine/plan/refresh.js'
import {renderPlanHuman} from '../cli/render/plan-human.js'
import {plainStyle} from '../cli/render/style.js'

/**
 * The measured side of bench/plan.ts, in its own process: `apply DIR P` (set-up) or `plan DIR P [bounds]`. Prints one
 * JSON line. CPU time covers load + plan + render only. With `bounds`, the bare refreshes (every card by GET, every
 * listing by pages) run after the plan, on warm connections, so the ratios are never flattered by the plan's own
 * warm-up; without a rate limit they are the bounds (with one, bench/plan.ts computes them from the rate instead).
 */
const [mode, dir, p, bounds] = process.argv.slice(2)
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
  } else {
    const run = await runPlan(workspace, {refresh: true, parallelism, lock: true, lockTimeoutMs: 0})
    const t2 = performance.now()
    renderPlanHuman(run.plan, plainStyle)
    const t3 = performance.now()
    const cpu = process.cpuUsage(cpu0)
    const maxRss = process.resourceUsage().maxRSS

    const measured: {get_ms?: number; list_ms?: number} = {}
    if (bounds === 'bounds') {
      const state = await workspace.store.read()
      for (const strategy of ['get', 'list'] as const) {
        const t4 = performance.now()
        await refreshLive(state, await workspace.gateway(), {parallelism, strategy})
        measured[`${strategy}_ms`] = performance.now() - t4
      }
    }
    print({
      load_ms: t1 - t0,
      plan_ms: t2 - t1,
      render_ms: t3 - t2,
      wall_ms: t3 - t0,
      ...measured,
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
