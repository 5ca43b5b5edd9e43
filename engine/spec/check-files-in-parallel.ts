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
 * Checks files on `workers` threads, each taking the next batch when it finishes one, and hands each result to
 * `onFile` in the order of `files`, exactly as checking them one by one on this thread would. A batch that finishes
 * before an earlier one waits for it; no other result is kept, so a project's documents need not all be in memory at
 * once. A worker that fails (our bug, never bad input: checking a file does not throw for that) rejects the whole
 * call.
 */
export async function checkFilesInParallel(
  files: ReadonlyArray<[absolute: string, file: string]>,
  setup: WorkerSetup,
  workers: number,
  onFile: (checked: CheckedFile) => void,
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
  const pool = Array.from({length: Math.min(workers, files.length)}, () => new Worker(WORKER_SCRIPT, {workerData: setup}))
  try {
    await Promise.all(
      pool.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            const send = () => {
              if (nextFile >= files.length) return resolve()
              const batch = files.slice(nextFile, (nextFile += batchSize()))
              worker.postMessage({batch: batches++, files: batch} satisfies WorkRequest)
            }
            worker.on('message', (answer: WorkResult) => {
              filesChecked += answer.results.length
              for (const result of answer.results) documentsChecked += result.documents.length
              waiting.set(answer.batch, answer.results)
              try {
                for (let ready = waiting.get(delivered); ready; ready = waiting.get(delivered)) {
                  waiting.delete(delivered++)
                  for (const checked of ready) onFile(checked)
                }
              } catch (error) {
                return reject(error)
              }
              send()
            })
            worker.on('error', reject)
            worker.on('exit', (code) => reject(new Error(`cardform: a loader worker stopped early (exit code ${code})`)))
            send()
          }),
      ),
    )
  } finally {
    await Promise.all(pool.map((worker) => worker.terminate()))
  }
}
