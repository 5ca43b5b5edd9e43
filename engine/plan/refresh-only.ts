import type {Address} from '../model/address.js'
import type {Diagnostic} from '../model/diagnostic.js'
import type {Plan, PlanSummary} from '../model/plan.js'
import type {StateDocument} from '../model/state.js'
import {computePlan, type DesiredCard, type LiveRead, type PlanInput} from './compute-plan.js'

/**
 * A refresh-only plan (Terraform's `-refresh-only`): what changed on the live cards since cardform last applied them,
 * and nothing else. It plans no API call; applying it records the live values in state (engine/apply/accept-drift.ts).
 *
 * The drift comes from computePlan itself, so both modes agree on what drift is: the plan is computed with each card's
 * desired spec taken from state (what cardform applied last time), so the spec files play no part and the three-way
 * diff has nothing to report but the live side. Its config changes (which would undo the drift) are dropped.
 *
 * Only cards that exist (status `created`) take part: an interrupted create has no live card to compare with yet.
 */
export function computeRefreshOnlyPlan(input: Omit<PlanInput, 'desired'>): Plan {
  const created = Object.entries(input.state?.resources ?? {}).filter(([, r]) => r.status === 'created' && r.remote_id)
  const desired: DesiredCard[] = created.map(([address, r]) => ({address, kind: r.kind, name: r.name, spec: {...r.applied, ...r.write_only}}))
  const state: StateDocument | null = input.state && {...input.state, resources: Object.fromEntries(created)}
  const full = computePlan({...input, desired, state})

  // The normal plan's messages are about what apply would change (switching a field back, creating a card again);
  // none applies here. What remains is what refresh-only apply will do.
  const diagnostics: Diagnostic[] = full.diagnostics.filter((d) => d.code === 'unknown-kind')
  for (const d of full.drift) {
    if (d.type !== 'deleted') continue
    diagnostics.push({
      severity: 'warning',
      code: 'deleted-outside',
      message: `${d.address}: card ${d.remote_id} was deleted outside cardform; apply --refresh-only removes it from state`,
      address: d.address,
    })
  }
  const summary: PlanSummary = {create: 0, update: 0, replace: 0, delete: 0, invalidate: 0, no_op: 0, state_only: full.drift.length}
  const applyable = !diagnostics.some((d) => d.severity === 'error')
  return {
    ...full,
    mode: 'refresh-only',
    changes: [],
    diagnostics,
    summary,
    has_irreversible: false,
    has_destructive: false,
    // Applying writes state exactly when some card drifted.
    has_changes: full.drift.length > 0,
    has_drift: full.drift.length > 0,
    applyable,
  }
}

/**
 * Record on each drift entry the fingerprint of the live card it was computed from, and set has_drift. A saved
 * refresh-only plan is refused when one of these fingerprints moved (apply would record values nobody reviewed).
 */
export function annotateDrift(plan: Plan, live: ReadonlyMap<Address, LiveRead>): Plan {
  for (const d of plan.drift) {
    const read = live.get(d.address)
    if (read?.status === 'found') d.live_fingerprint = read.fingerprint
  }
  plan.has_drift = plan.drift.length > 0
  return plan
}
