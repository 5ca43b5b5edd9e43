import type {Address} from '../model/address.js'
import type {Diagnostic} from '../model/diagnostic.js'
import type {Plan} from '../model/plan.js'
import type {StateDocument} from '../model/state.js'
import type {LiveRead} from '../plan/compute-plan.js'
import {StateManager} from '../state/state-manager.js'
import type {Workspace} from '../workspace.js'
import {acceptDrift} from './accept-drift.js'
import type {ApplyResult} from './apply-plan.js'

/**
 * Why a saved plan cannot be applied with these options: a refresh-only plan only with --refresh-only and a normal one
 * only without (the two do different things: record live values, or change the live cards), and the targets are the
 * plan's own (chosen when it was made).
 */
export function savedPlanConflicts(plan: Plan, opts: {mode?: Plan['mode']; targets?: string[]; excludes?: string[]}, file: string): Diagnostic[] {
  const out: Diagnostic[] = []
  const planMode = plan.mode ?? 'normal'
  const wanted = opts.mode ?? 'normal'
  if (planMode === 'refresh-only' && wanted !== 'refresh-only') {
    out.push({
      severity: 'error',
      code: 'plan-mode-mismatch',
      message: `${file} is a refresh-only plan (it records live values in state and changes no card): apply it with \`cardform apply --refresh-only ${file}\``,
    })
  } else if (planMode !== 'refresh-only' && wanted === 'refresh-only') {
    out.push({
      severity: 'error',
      code: 'plan-mode-mismatch',
      message: `${file} is a normal plan (it changes cards), not a refresh-only one: apply it without --refresh-only, or make one with \`cardform plan --refresh-only --out FILE\``,
    })
  }
  if (opts.targets?.length || opts.excludes?.length) {
    out.push({
      severity: 'error',
      code: 'saved-plan-targeting',
      message: `--target and --exclude cannot be given with a saved plan: ${file} applies the cards it was planned for (choose them with plan --target/--exclude --out)`,
    })
  }
  return out
}

/**
 * apply --refresh-only: record the drift of an approved refresh-only plan in state, with no API write. `live` holds the
 * reads the drift was computed from (a fresh plan) or the reads that proved a saved plan still current. The state is
 * written once (serial + 1) when something changed, not at all otherwise.
 */
export async function acceptSavedDrift(
  ws: Workspace,
  state: StateDocument | null,
  plan: Plan,
  live: ReadonlyMap<Address, LiveRead>,
): Promise<{result: ApplyResult; state?: StateDocument; accepted: {modified: Address[]; removed: Address[]}}> {
  const accepted = state ? acceptDrift(state, plan.drift, live, ws.wires, new Date().toISOString()) : {modified: [], removed: []}
  const done = accepted.modified.length + accepted.removed.length
  if (state && done > 0) await new StateManager(ws.store, state).persist()
  return {
    result: {outcomes: [], failed: 0, done, skipped: 0, interrupted: false},
    ...(state ? {state} : {}),
    accepted,
  }
}
