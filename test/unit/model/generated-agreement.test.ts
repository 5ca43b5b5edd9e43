import {describe, expect, it} from 'vitest'
import type * as G from '../../../engine/generated/plan.js'
import type * as GS from '../../../engine/generated/state.js'
import type * as M from '../../../engine/model/plan.js'
import type * as MS from '../../../engine/model/state.js'

/**
 * engine/model/plan.ts and state.ts are written by hand (they state invariants and give request bodies precise types);
 * schemas/plan.schema.json and state.schema.json describe the same documents for everyone else, and the documents
 * themselves are validated against the schemas at run time (every state read; the plan in the golden and end-to-end
 * tests). These type-level checks make the type-check (part of `npm test`) fail as soon as a property is added to or
 * removed from one side only.
 */
type SameKeys<A, B> = [Exclude<keyof A, keyof B>, Exclude<keyof B, keyof A>] extends [never, never] ? true : false

const checks = {
  plan: true as SameKeys<M.Plan, G.CardformPlan>,
  change: true as SameKeys<M.ResourceChange, G.Change>,
  fieldChange: true as SameKeys<M.FieldChange, G.FieldChange>,
  drift: true as SameKeys<M.Drift, G.Drift>,
  summary: true as SameKeys<M.PlanSummary, G.CardformPlan['summary']>,
  state: true as SameKeys<MS.StateDocument, GS.CardformState>,
  resource: true as SameKeys<MS.ResourceState, GS.Resource>,
  action: true as [M.Action] extends [G.Action] ? ([G.Action] extends [M.Action] ? true : false) : false,
  reason: true as [M.Reason] extends [G.Reason] ? ([G.Reason] extends [M.Reason] ? true : false) : false,
  stepOps: true as [M.Step['op']] extends [G.Step['op']] ? ([G.Step['op']] extends [M.Step['op']] ? true : false) : false,
}

describe('hand-written model types and the types generated from the schemas', () => {
  it('have the same properties and the same closed sets (checked by the type-checker)', () => {
    expect(Object.values(checks).every((v) => v === true)).toBe(true)
  })
})
