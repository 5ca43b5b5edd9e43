import {describe, expect, it} from 'vitest'
import {formatEta, ProgressDisplay, progressPayload, RateWindow, showProgress} from '../../../cli/progress.js'

describe('showProgress', () => {
  const person = {flag: undefined, machineOutput: false, stdoutTTY: true, stderrTTY: true, env: {TERM: 'xterm-256color'}}

  it('draws for a person at a terminal', () => {
    expect(showProgress(person)).toBe(true)
  })

  it.each([
    ['--no-progress', {flag: false}],
    ['--json or --markdown', {machineOutput: true}],
    ['standard output redirected (plan | less, apply | tee)', {stdoutTTY: false}],
    ['standard error redirected', {stderrTTY: false}],
    ['CI=true', {env: {CI: 'true'}}],
    ['CI=1', {env: {CI: '1'}}],
    ['TERM=dumb', {env: {TERM: 'dumb'}}],
  ])('does not draw with %s', (_, change) => {
    expect(showProgress({...person, ...change})).toBe(false)
  })

  it.each([['CI='], ['CI=false'], ['CI=0']])('takes %s as not CI', (setting) => {
    expect(showProgress({...person, env: {CI: setting.slice(3)}})).toBe(true)
  })
})

describe('RateWindow', () => {
  it('knows no rate until some time has passed', () => {
    const w = new RateWindow()
    w.add(0, {done: 0, total: 10, requests: 0})
    w.add(100, {done: 1, total: 10, requests: 1})
    expect(w.rates()).toBeUndefined()
  })

  it('measures requests and cards per second over the last window only', () => {
    const w = new RateWindow(5000)
    // A slow start: 1 request in the first 10 s, then 100 per second.
    w.add(0, {done: 0, total: 2000, requests: 0})
    w.add(10_000, {done: 1, total: 2000, requests: 1})
    for (let t = 11_000; t <= 20_000; t += 1000) w.add(t, {done: 1 + (t - 10_000) / 20, total: 2000, requests: 1 + (t - 10_000) / 10})
    expect(w.rates()).toEqual({requests: 100, cards: 50})
  })
})

describe('formatEta', () => {
  it.each([
    [undefined, '--'],
    [Infinity, '--'],
    [0, '0s'],
    [0.2, '1s'],
    [59, '59s'],
    [65, '1m05s'],
    [3725, '1h02m'],
  ])('%s s is %s', (seconds, text) => {
    expect(formatEta(seconds)).toBe(text)
  })
})

describe('progressPayload', () => {
  it('gives the rate of requests and the time left at the rate cards finish', () => {
    expect(progressPayload('Refreshing', {done: 100, total: 1000, requests: 200}, {requests: 40, cards: 20})).toEqual({label: 'Refreshing', rate: '40', time_left: '45s'})
  })

  it('says -- while no rate is known, and 0s once every card is done', () => {
    expect(progressPayload('Applying', {done: 0, total: 5, requests: 0}, undefined)).toEqual({label: 'Applying', rate: '--', time_left: '--'})
    expect(progressPayload('Applying', {done: 5, total: 5, requests: 7}, {requests: 3.25, cards: 2})).toEqual({label: 'Applying', rate: '3.3', time_left: '0s'})
  })
})

describe('ProgressDisplay when disabled', () => {
  it('draws nothing and prints logged lines through the fallback', () => {
    const display = new ProgressDisplay(false)
    const lines: string[] = []
    display.update('Applying', {done: 1, total: 2, requests: 1})
    display.log('✓ MemberCard.a: create done', (l) => lines.push(l))
    display.stop()
    expect(lines).toEqual(['✓ MemberCard.a: create done'])
  })
})
