import {describe, expect, it} from 'vitest'
import {renderApplySummary} from '../../../cli/render/apply-human.js'
import {plainStyle} from '../../../cli/render/style.js'
import type {ApplyRun} from '../../../engine/operations.js'
import type {UnrecordedCard} from '../../../engine/apply/apply-plan.js'
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

describe('apply summary after a failed state write', () => {
  const run = (unrecorded: UnrecordedCard[]): ApplyRun => ({
    plan: plan(exampleCards(), null),
    refused: [],
    result: {
      outcomes: [
        {address: 'MemberCard.a', action: 'create', status: 'failed', failedStep: 'create', remoteId: 'pA', failure: {message: 'the create was made (card pA), but recording it in state failed: …', refused: false}},
      ],
      failed: 1,
      done: 2,
      skipped: 3,
      interrupted: false,
      stateWriteFailure: {message: 'writing state at .cardform/state.json failed: ENOSPC: no space left on device, write', code: 'state-io', lastSerial: 9, unrecorded},
    },
  })

  it('lists each card changed but not recorded with its card_id and out_request_no, and says how to recover', () => {
    const text = renderApplySummary(
      run([
        {address: 'MemberCard.a', action: 'create', change: 'created', remote_id: 'pA', out_request_no: 'cf-a', recorded: 'creating'},
        {address: 'MemberCard.b', action: 'update', change: 'changed', remote_id: 'pB', out_request_no: 'cf-b', recorded: 'created'},
        {address: 'MemberCard.c', action: 'delete', change: 'removed', remote_id: 'pC', recorded: 'created'},
        {address: 'MemberCard.d', action: 'create', change: 'created', remote_id: 'pD', out_request_no: 'cf-d', recorded: 'absent'},
      ]),
      plainStyle,
    )
    expect(text).toContain('error[state-io]: the state could not be written: writing state at .cardform/state.json failed: ENOSPC')
    expect(text).toContain('Changed at WeChat Pay but not recorded in state (4):\n')
    expect(text).toContain('  MemberCard.a: created card pA (out_request_no cf-a); state has its create in progress\n')
    expect(text).toContain('  MemberCard.b: changed card pB (out_request_no cf-b); state has its earlier values\n')
    expect(text).toContain('  MemberCard.c: removed card pC; state still has it\n')
    expect(text).toContain('  MemberCard.d: created card pD (out_request_no cf-d); state has nothing\n')
    expect(text).toContain('To recover: make the state writable again')
    expect(text).toContain('repeated with the same out_request_no')
    expect(text).toContain('State holds nothing that leads to MemberCard.d: adopt it with `cardform import ADDRESS CARD_ID`')
    expect(text).toContain('\n  cardform import MemberCard.d pD\n')
    expect(text).not.toContain('State serial')
    // Not every finished step is recorded: the recovery above says what to do instead.
    expect(text).not.toContain('finished steps are recorded in state')
  })

  it('says so when every change is recorded (only folding the journal failed)', () => {
    const text = renderApplySummary(run([]), plainStyle)
    expect(text).toContain('No card was changed at WeChat Pay without being recorded in state.')
    expect(text).not.toContain('not recorded in state (')
  })
})
