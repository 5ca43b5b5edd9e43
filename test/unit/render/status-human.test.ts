import {describe, expect, it} from 'vitest'
import {renderStatusHuman} from '../../../cli/render/status-human.js'
import {plainStyle} from '../../../cli/render/style.js'
import type {StatusReport} from '../../../engine/review-status.js'
import type {CardReview} from '../../../engine/model/plan.js'

const card = (name: string, status: CardReview['status'], api_status: string): CardReview => ({address: `MemberCard.${name}`, kind: 'MemberCard', name, remote_id: `p${name}`, status, api_status})
const report = (cards: CardReview[], over: Partial<StatusReport> = {}): StatusReport => ({cards, health: 'approved', timed_out: false, reads: 1, diagnostics: [], ...over})

describe('renderStatusHuman', () => {
  it('names each card and ends with the verdict', () => {
    expect(renderStatusHuman(report([card('a', 'approved', 'APPROVED'), card('b', 'failed', 'APPROVE_FAIL')], {health: 'failed'}), plainStyle)).toBe(
      '  MemberCard.a (card pa) is approved (APPROVED)\n' +
        '  MemberCard.b (card pb) failed WeChat Pay review (APPROVE_FAIL); the API gives no reason: see the merchant platform\n' +
        '\n' +
        'Review failed: 1 approved, 0 in review, 1 failed review. Fix the cards named above and apply again.\n',
    )
  })

  it('says when it timed out, and when nothing is reviewed', () => {
    expect(renderStatusHuman(report([card('a', 'in-review', 'NOT_APPROVE')], {health: 'in-review', timed_out: true}), plainStyle)).toContain(
      'Timed out waiting for review: 0 approved, 1 in review, 0 failed review.',
    )
    expect(renderStatusHuman(report([]), plainStyle)).toBe('No card in state goes through WeChat Pay review (审核).\n')
  })
})
