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

const plan: SameKeys<M.Plan, G.CardformPlan> = true
const change: SameKeys<M.ResourceChange, G.Change> = true
const fieldChange: SameKeys<M.FieldChange, G.FieldChange> = true
const drift: SameKeys<M.Drift, G.Drift> = true
const summary: SameKeys<M.PlanSummary, G.CardformPlan['summary']> = true
const state: SameKeys<MS.StateDocument, GS.CardformState> = true
const resource: SameKeys<MS.ResourceState, GS.Resource> = true
const action: [M.Action] extends [G.Action] ? ([G.Action] extends [M.Action] ? true : false) : false = true
const reason: [M.Reason] extends [G.Reason] ? ([G.Reason] extends [M.Reason] ? true : false) : false = true
const stepOps: [M.Step['op']] extends [G.Step['op']] ? ([G.Step['op']] extends [M.Step['op']] ? true : false) : false = true
const checks = [plan, change, fieldChange, drift, summary, state, resource, action, reason, stepOps]

describe('hand-written model types and the types generated from the schemas', () => {
  it('have the same properties and the same closed sets (checked by the type-checker)', () => {
    expect(checks.every((v) => v)).toBe(true)
  })
})
