import path from 'node:path'
import {Worker} from 'node:worker_threads'
import {packageRoot} from '../paths.js'
import type {CheckedFile} from './check-file.js'
import type {LoaderLimits} from './limits.js'
import type {Environment, VariableValue} from './prepare-values.js'
import type {SchemaSet} from './schema-set.js'

/** What every worker starts from; plain data. `schemas` undefined means the package's own schemas. */
export interface WorkerSetup {
  env: Environment
  vars?: Record<string, VariableValue> | undefined
  varOrigin?: string | undefined
  limits: LoaderLimits
  schemas: SchemaSet | undefined
}

/** A batch of `[absolute path, project-relative path]` pairs. */
export interface WorkRequest {
  batch: number
  files: Array<[string, string]>
}

export interface WorkResult {
  batch: number
  results: CheckedFile[]
}

/**
 * Most files per message. Small enough that the workers finish together (a batch of card files is a few milliseconds
 * of work), large enough that messaging costs nothing next to it.
 */
const BATCH = 50

/**
 * Documents a batch should hold, going by the files checked so far: a batch is one message, held whole in the worker
 * and then in this thread. Fifty files of 500 cards each made 25,000 cards a message; at 100,000 cards, two workers
 * took 502 MB and 23 s, and batches of two such files 294 MB and 10 s.
 */
const BATCH_DOCUMENTS = 500

/**
 * The compiled worker script. Always the built one, even when this module runs from TypeScript source under
 * vitest, since a worker thread cannot load TypeScript; the test script builds before it tests.
 */
const WORKER_SCRIPT = path.join(packageRoot, 'dist', 'engine', 'spec', 'check-files-worker.js')

/**
 * Each worker's heap. V8 lets a heap grow to some five times what is live before it collects; every worker has a heap
 * of its own, so without a limit two workers took 271 MB to check 100,000 cards (this thread alone: 159 MB). With this
 * limit they take 174 MB, and a batch of ordinary card files (at most about 500 cards, see BATCH_DOCUMENTS) needs a
 * fraction of it. A batch that does not fit (a hostile file within the per-file limits can need 100 MB) is checked on
 * this thread instead, as it would be without workers.
 */
export const WORKER_HEAP = {maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 4} as const

/**
 * Checks files on `workers` threads, each taking the next batch when it finishes one, and hands each result to
 * `onFile` in the order of `files`, exactly as checking them one by one on this thread would. A batch that finishes
 * before an earlier one waits for it; no other result is kept, so a project's documents need not all be in memory at
 * once. A worker that runs out of its heap (WORKER_HEAP) has its batch checked here by `checkHere`, and a new worker
 * takes its place. A worker that fails otherwise (our bug, never bad input: checking a file does not throw for that)
 * rejects the whole call.
 */
export async function checkFilesInParallel(
  files: ReadonlyArray<[absolute: string, file: string]>,
  setup: WorkerSetup,
  workers: number,
  onFile: (checked: CheckedFile) => void,
  checkHere: (absolute: string, file: string) => CheckedFile,
): Promise<void> {
  const waiting = new Map<number, CheckedFile[]>()
  let delivered = 0
  let batches = 0
  let nextFile = 0
  let filesChecked = 0
  let documentsChecked = 0
  // Files with one card each (the usual layout) go fifty to a batch; files of many cards, fewer; the first batches,
  // sent before anything is known, one file each.
  const batchSize = () =>
    filesChecked === 0 ? 1 : Math.max(1, Math.min(BATCH, Math.floor(BATCH_DOCUMENTS / Math.max(1, documentsChecked / filesChecked))))
  /** Workers running; one that ran out of memory leaves the set before its exit, which is then expected. */
  const live = new Set<Worker>()
  /** Takes a batch's results; hands on, in order, every batch now complete. */
  const deliver = (answer: WorkResult) => {
    filesChecked += answer.results.length
    for (const result of answer.results) documentsChecked += result.documents.length
    waiting.set(answer.batch, answer.results)
    for (let ready = waiting.get(delivered); ready; ready = waiting.get(delivered)) {
      waiting.delete(delivered++)
      for (const checked of ready) onFile(checked)
    }
  }
  const slot = () =>
    new Promise<void>((resolve, reject) => {
      let worker: Worker
      let current: WorkRequest | undefined
      const send = () => {
        if (nextFile >= files.length) return resolve()
        current = {batch: batches++, files: files.slice(nextFile, (nextFile += batchSize()))}
        worker.postMessage(current)
      }
      const start = () => {
        const started = new Worker(WORKER_SCRIPT, {workerData: setup, resourceLimits: WORKER_HEAP})
        worker = started
        live.add(started)
        started.on('message', (answer: WorkResult) => {
          current = undefined
          try {
            deliver(answer)
          } catch (error) {
            return reject(error)
          }
          send()
        })
        started.on('error', (error: Error & {code?: string}) => {
          const batch = current
          if (error.code !== 'ERR_WORKER_OUT_OF_MEMORY' || !batch) return reject(error)
          live.delete(started)
          current = undefined
          try {
            deliver({batch: batch.batch, results: batch.files.map(([absolute, file]) => checkHere(absolute, file))})
          } catch (e) {
            return reject(e)
          }
          start()
          send()
        })
        started.on('exit', (code) => {
          if (live.has(started)) reject(new Error(`cardform: a loader worker stopped early (exit code ${code})`))
        })
      }
      start()
      send()
    })
  try {
    await Promise.all(Array.from({length: Math.min(workers, files.length)}, slot))
  } finally {
    await Promise.all([...live].map((worker) => worker.terminate()))
  }
}
