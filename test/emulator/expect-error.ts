import {expect} from 'vitest'
import type {CallResult} from './signed-client.js'

/** Assert an APIv3 error answer: status, code and (exact string or pattern) message. */
export function expectApiError(r: CallResult, status: number, code: string, message?: string | RegExp): void {
  expect(r.status, r.text).toBe(status)
  expect(r.json.code, r.text).toBe(code)
  if (typeof message === 'string') expect(r.json.message).toBe(message)
  else if (message) expect(r.json.message).toMatch(message)
}
