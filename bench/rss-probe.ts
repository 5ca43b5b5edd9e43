import {writeFileSync} from 'node:fs'
import {isMainThread} from 'node:worker_threads'

/**
 * Preloaded into a measured process (`node --import …/rss-probe.js bin/run.js …`): samples the heap every 20 ms and,
 * at exit, writes the process's peak RSS (getrusage) and the peaks it sampled to the file named by
 * CARDFORM_BENCH_PROBE. The process under test is the real CLI, unchanged.
 */
const out = process.env['CARDFORM_BENCH_PROBE']
if (out && isMainThread) {
  const peak = {rss: 0, heap_used: 0, heap_total: 0, external: 0, array_buffers: 0}
  const sample = () => {
    const m = process.memoryUsage()
    peak.rss = Math.max(peak.rss, m.rss)
    peak.heap_used = Math.max(peak.heap_used, m.heapUsed)
    peak.heap_total = Math.max(peak.heap_total, m.heapTotal)
    peak.external = Math.max(peak.external, m.external)
    peak.array_buffers = Math.max(peak.array_buffers, m.arrayBuffers)
  }
  setInterval(sample, 20).unref()
  process.on('exit', () => {
    sample()
    const cpu = process.cpuUsage()
    writeFileSync(
      out,
      JSON.stringify({
        max_rss_kb: process.resourceUsage().maxRSS,
        sampled_peaks: peak,
        cpu_user_ms: cpu.user / 1000,
        cpu_system_ms: cpu.system / 1000,
      }),
    )
  })
}
