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
 * Files per message. Small enough that the workers finish together (a batch of card files is a few milliseconds
 * of work), large enough that messaging costs nothing next to it.
 */
const BATCH = 50

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
  const batches: Array<Array<[string, string]>> = []
  for (let i = 0; i < files.length; i += BATCH) batches.push(files.slice(i, i + BATCH))
  const waiting = new Map<number, CheckedFile[]>()
  let delivered = 0
  let next = 0
  const pool = Array.from({length: Math.min(workers, batches.length)}, () => new Worker(WORKER_SCRIPT, {workerData: setup}))
  try {
    await Promise.all(
      pool.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            const send = () => {
              if (next >= batches.length) return resolve()
              const batch = next++
              worker.postMessage({batch, files: batches[batch]!} satisfies WorkRequest)
            }
            worker.on('message', (answer: WorkResult) => {
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
