import {loadProject} from '../engine/spec/load-project.js'

/**
 * `node dist/bench/load-workers.js DIR WORKERS`: load the project at DIR on WORKERS loader threads (even when the
 * machine's load average would give none) and keep no documents, as `cardform validate` does; prints what validate
 * prints on success, or each diagnostic, and exits as validate does. For the soak's memory row on worker threads.
 */
const [dir, workers] = process.argv.slice(2)
if (!dir || !workers) throw new Error('usage: load-workers.js DIR WORKERS')
const project = await loadProject(dir, {workers: Number(workers), parallelAbove: 0, keepDocuments: false})
for (const d of project.diagnostics) process.stdout.write(`${d.source?.file}:${d.source?.line}:${d.source?.column}: ${d.severity}[${d.code}]: ${d.message}\n`)
if (!project.diagnostics.some((d) => d.severity === 'error')) {
  process.stdout.write(`Valid: ${project.documentCount} cards in ${project.files.length} files.\n`)
}
process.exitCode = project.diagnostics.some((d) => d.severity === 'error') ? 1 : 0
