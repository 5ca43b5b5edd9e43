import {parentPort, workerData} from 'node:worker_threads'
import {checkSpecFile, withPlainEnvironment, type CheckedFile} from './check-file.js'
import type {WorkerSetup, WorkRequest, WorkResult} from './check-files-in-parallel.js'
import {createDefaultSpecValidator} from './default-validator.js'
import {createSpecValidator} from './spec-validator.js'

// One loader worker (see check-files-in-parallel.ts): sets up its validator once, then checks each batch of files
// it is sent and answers with plain data.
const setup = workerData as WorkerSetup
const validator = setup.schemas ? createSpecValidator(setup.schemas) : createDefaultSpecValidator()
const context = {env: setup.env, vars: setup.vars, varOrigin: setup.varOrigin, limits: setup.limits, validator}

parentPort!.on('message', (request: WorkRequest) => {
  const results: CheckedFile[] = withPlainEnvironment(() => request.files.map(([absolute, file]) => checkSpecFile(absolute, file, context)))
  parentPort!.postMessage({batch: request.batch, results} satisfies WorkResult)
})
