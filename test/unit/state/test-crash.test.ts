import {afterEach, describe, expect, it, vi} from 'vitest'

/** engine/state/test-crash.ts reads CARDFORM_TEST_CRASH once per process: each case imports a fresh copy of it. */
async function load(value: string | undefined) {
  vi.resetModules()
  if (value === undefined) delete process.env['CARDFORM_TEST_CRASH']
  else process.env['CARDFORM_TEST_CRASH'] = value
  return import('../../../engine/state/test-crash.js')
}

afterEach(() => {
  delete process.env['CARDFORM_TEST_CRASH']
})

describe('the CARDFORM_TEST_CRASH test hook', () => {
  it('does nothing unless set', async () => {
    const {crashDue, CRASH_POINTS} = await load(undefined)
    for (const point of CRASH_POINTS) for (let i = 0; i < 3; i++) expect(crashDue(point)).toBe(false)
  })

  it('is due exactly at the N-th arrival at its point, never at another point', async () => {
    const {crashDue} = await load('compact-rename:2')
    expect(crashDue('journal-append')).toBe(false)
    expect(crashDue('compact-rename')).toBe(false)
    expect(crashDue('write-rename')).toBe(false)
    expect(crashDue('compact-rename')).toBe(true)
    expect(crashDue('compact-rename')).toBe(false)
  })

  it.each(['1', 'journal-append', 'journal-append:0', 'journal:1', 'JOURNAL-APPEND:1', 'journal-append:1 '])('refuses %j instead of ignoring it', async (value) => {
    const {crashDue} = await load(value)
    expect(() => crashDue('journal-append')).toThrow(/CARDFORM_TEST_CRASH=.*this test hook takes POINT:N/)
  })
})
