import type {CardformApplyResult} from '../../engine/generated/apply.js'
import type {ApplyOutcome} from '../../engine/apply/apply-plan.js'
import type {ApplyRun} from '../../engine/operations.js'

/**
 * The document `apply --json` prints (schemas/apply.schema.json; the type is generated from it). The same run the
 * human summary renders (apply-human.ts), as data: per-card outcomes with the API's status, code and Request-ID
 * as fields, the state left behind, and why nothing was applied when apply refused.
 */
export type ApplyDocument = CardformApplyResult

export function toApplyDocument(run: ApplyRun, options: {savedPlan: boolean; version: string}): ApplyDocument {
  const r = run.result
  const status: ApplyDocument['status'] =
    run.refused.length > 0 || !r ? 'refused' : r.interrupted ? 'interrupted' : r.failed > 0 || r.stateWriteFailure ? 'failed' : 'applied'
  // Only a serial the store accepted is reported: after a failed write, the last one this apply wrote.
  const state = run.state && !r?.stateWriteFailure ? {serial: run.state.serial, lineage: run.state.lineage} : null
  return {
    format_version: '1.1',
    cardform_version: options.version,
    status,
    mode: run.plan.mode ?? 'normal',
    saved_plan: options.savedPlan,
    plan_summary: {...run.plan.summary},
    ...(run.plan.targets?.length ? {targets: run.plan.targets} : {}),
    ...(run.plan.excludes?.length ? {excludes: run.plan.excludes} : {}),
    counts: {done: r?.done ?? 0, failed: r?.failed ?? 0, skipped: r?.skipped ?? 0},
    cards: (r?.outcomes ?? []).map(toCard),
    ...(run.accepted ? {accepted: run.accepted} : {}),
    refused: run.refused,
    diagnostics: run.plan.diagnostics,
    state,
    ...(r?.stateWriteFailure
      ? {
          state_write_failure: {
            message: r.stateWriteFailure.message,
            ...(r.stateWriteFailure.code ? {code: r.stateWriteFailure.code} : {}),
            ...(r.stateWriteFailure.lastSerial !== undefined ? {last_serial: r.stateWriteFailure.lastSerial} : {}),
            unrecorded: r.stateWriteFailure.unrecorded.map((c) => ({
              address: c.address,
              action: c.action,
              change: c.change,
              remote_id: c.remote_id,
              ...(c.out_request_no ? {out_request_no: c.out_request_no} : {}),
              recorded: c.recorded,
            })),
          },
        }
      : {}),
    ...(run.lockNotReleased ? {lock_not_released: {id: run.lockNotReleased.id, message: run.lockNotReleased.message}} : {}),
  }
}

function toCard(o: ApplyOutcome): ApplyDocument['cards'][number] {
  const f = o.failure
  return {
    address: o.address,
    action: o.action,
    status: o.status,
    ...(o.remoteId ? {remote_id: o.remoteId} : {}),
    ...(o.failedStep ? {failed_step: o.failedStep} : {}),
    ...(f
      ? {
          failure: {
            message: f.message,
            ...(f.status !== undefined ? {status: f.status} : {}),
            ...(f.code ? {code: f.code} : {}),
            ...(f.requestId ? {request_id: f.requestId} : {}),
            refused: f.refused,
          },
        }
      : {}),
  }
}
