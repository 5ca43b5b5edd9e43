import {describe, expect, it} from 'vitest'
import {renderApplySummary} from '../../../cli/render/apply-human.js'
import {plainStyle} from '../../../cli/render/style.js'
import type {ApplyRun} from '../../../engine/operations.js'
import {exampleCards, plan} from '../plan/helpers.js'

function runWith(failures: Array<{address: string; refused: boolean}>): ApplyRun {
  return {
    plan: plan(exampleCards(), null),
    refused: [],
    result: {
      outcomes: failures.map((f) => ({
        address: f.address,
        action: 'update',
        status: 'failed',
        failedStep: 'rights',
        failure: f.refused
          ? {message: 'PATCH …/rights failed: 会员权益一旦展示无法关闭', status: 400, code: 'INVALID_REQUEST', requestId: 'RID-7', refused: true}
          : {message: 'PATCH … failed', status: 503, refused: false},
      })),
      failed: failures.length,
      done: 0,
      skipped: 0,
      interrupted: false,
    },
  }
}

describe('apply summary after failures', () => {
  it('does not promise that a re-run fixes a change the API refused', () => {
    const text = renderApplySummary(runWith([{address: 'MemberCard.coffee-member', refused: true}]), plainStyle)
    expect(text).toContain('The API refused MemberCard.coffee-member: running apply again sends the same request, so fix the spec')
    expect(text).not.toContain('Run apply again to retry')
  })

  it('says the status, code and Request-ID of a failure once each', () => {
    const text = renderApplySummary(runWith([{address: 'MemberCard.coffee-member', refused: true}]), plainStyle)
    expect(text).toContain('  MemberCard.coffee-member (update, step rights): PATCH …/rights failed: 会员权益一旦展示无法关闭 [HTTP 400, INVALID_REQUEST, Request-ID RID-7]\n')
    for (const part of ['400', 'INVALID_REQUEST', 'RID-7']) expect(text.split(part)).toHaveLength(2)
  })

  it('suggests a re-run for failures that may pass next time', () => {
    const text = renderApplySummary(runWith([{address: 'MemberCard.a', refused: true}, {address: 'MemberCard.b', refused: false}]), plainStyle)
    expect(text).toContain('The API refused MemberCard.a:')
    expect(text).toContain('Run apply again to retry the others')
  })
})
