import {readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {expect} from 'vitest'
import type {StateDocument} from '../../engine/model/state.js'
import {liveCards, readState, type TestProject} from '../integration/engine/project.js'

/** Helpers of the state-and-disk tests (issue 11, experiment 4): a fault in the middle of an apply, and the tally. */

export async function waitFor(what: string, done: () => boolean, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

/** Start `apply` and run `fault` once the emulator has made `n` cards; resolves with the run's output. */
export async function applyWithFault(project: TestProject, args: string[], n: number, fault: () => void, env: NodeJS.ProcessEnv = {}) {
  const child = project.spawnCli(['apply', '--auto-approve', ...args], {env})
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()))
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()))
  let exited = false
  const exit = new Promise<number | null>((resolve) => child.on('close', (code) => ((exited = true), resolve(code))))
  await waitFor(`${n} cards`, () => project.emulator.admin.stats().cards_created >= n || exited)
  expect(exited, stdout + stderr).toBe(false)
  fault()
  const code = await exit
  return {code, stdout, stderr}
}

export interface Reported {
  address: string
  remote_id: string
  out_request_no: string
}

/** The summary's `Changed at WeChat Pay but not recorded in state (N):` lines for created cards. */
export function reportedInSummary(stdout: string): Reported[] {
  return [...stdout.matchAll(/^ {2}(\S+): created card (\S+) \(out_request_no (\S+)\); state has its create in progress$/gm)].map((m) => ({
    address: m[1]!,
    remote_id: m[2]!,
    out_request_no: m[3]!,
  }))
}

/**
 * Every card the emulator holds is either recorded in `state` as created with its card_id, or reported; a reported
 * card is recorded as a create in progress with the same out_request_no (so the next apply finds it again).
 */
export function tally(project: TestProject, cards: number, state: StateDocument, reported: readonly Reported[]) {
  const live = liveCards(project.emulator)
  const titles = live.map((c) => c.card.title as string)
  const recordedIds = new Set(Object.values(state.resources).filter((r) => r.status === 'created').map((r) => r.remote_id))
  const reportedIds = new Set(reported.map((r) => r.remote_id))
  for (const r of reported) {
    expect(live.map((c) => c.card_id)).toContain(r.remote_id)
    expect(state.resources[r.address], r.address).toMatchObject({status: 'creating', out_request_no: r.out_request_no})
  }
  return {
    tried: cards,
    made: live.length,
    recorded: live.filter((c) => recordedIds.has(c.card_id)).length,
    reported: reported.length,
    duplicated: titles.length - new Set(titles).size,
    lost: live.filter((c) => !recordedIds.has(c.card_id) && !reportedIds.has(c.card_id)).length,
  }
}

/** Apply until it exits 0 (at most 3 runs), then check: one card per spec, state equal to live, an empty plan. */
export async function converge(project: TestProject, cards: number, stateFile: string, env: NodeJS.ProcessEnv = {}, read?: () => Promise<StateDocument>) {
  let runs = 0
  for (;;) {
    runs++
    const r = await project.cli(['apply', '--auto-approve'], {env})
    if (r.code === 0) break
    expect(runs, r.stdout + r.stderr).toBeLessThan(3)
  }
  const plan = await project.cli(['plan', '--detailed-exitcode'], {env})
  expect(plan.code, plan.stdout + plan.stderr).toBe(0)
  const live = liveCards(project.emulator)
  const state = read ? await read() : readState(stateFile)
  const ids = Object.values(state.resources).map((r) => r.remote_id).sort()
  expect(ids).toEqual(live.map((c) => c.card_id).sort())
  const titles = live.map((c) => c.card.title as string)
  return {runs, survived: live.length, duplicated: titles.length - new Set(titles).size, lost: cards - new Set(titles).size, created: project.emulator.admin.stats().cards_created}
}

/** Files a failed write must not leave behind: temp files, and a lock nobody holds. */
export function leftovers(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.tmp') || f.endsWith('.lock'))
}

/** Every file in `dir` with its bytes (base64), for byte-for-byte comparisons. */
export function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(dir, {withFileTypes: true})
      .filter((f) => f.isFile() && !f.name.endsWith('.lock'))
      .map((f) => f.name)
      .sort()
      .map((f) => [f, readFileSync(path.join(dir, f)).toString('base64')]),
  )
}
