import {parentPort, workerData} from 'node:worker_threads'
import {checkSpecFile, withPlainEnvironment, type CheckedFile} from './check-file.js'
import type {WorkerSetup, WorkRequest, WorkResult} from './check-files-in-parallel.js'
import {readSchemaSet} from './schema-set.js'
import {createSpecValidator} from './spec-validator.js'

// One loader worker (see check-files-in-parallel.ts): compiles the schemas once, then checks each batch of files
// it is sent and answers with plain data.
const setup = workerData as WorkerSetup
const context = {env: setup.env, limits: setup.limits, validator: createSpecValidator(setup.schemas ?? readSchemaSet())}

parentPort!.on('message', (request: WorkRequest) => {
  const results: CheckedFile[] = withPlainEnvironment(() => request.files.map(([absolute, file]) => checkSpecFile(absolute, file, context)))
  parentPort!.postMessage({batch: request.batch, results} satisfies WorkResult)
})
