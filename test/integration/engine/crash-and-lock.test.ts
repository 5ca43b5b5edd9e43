import {existsSync} from 'node:fs'
import path from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {startProxy} from '../client/loopback-proxy.js'
import {createProject, liveCards, storeCards, type TestProject} from './project.js'

let p: TestProject | undefined
afterEach(async () => {
  await p?.close()
  p = undefined
})

/** True once the state journals a create (the POST is then in flight). */
function existsJournal(project: TestProject): boolean {
  try {
    return Object.values(project.state().resources).some((r) => r.status === 'creating')
  } catch {
    return false // no state file yet
  }
}

/** Wait until the emulator has created at least `n` cards (or the child exited). */
async function waitForCreated(project: TestProject, n: number, exited: () => boolean): Promise<void> {
  const deadline = Date.now() + 60_000
  while (project.emulator.admin.stats().cards_created < n && !exited()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${n} cards`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

describe('crash safety and locking', () => {
  it('SIGKILL at several points during an apply of 50 cards, then a re-run: no duplicate, no lost card, state equals live', async () => {
    p = await createProject({cards: storeCards(50), emulator: {latencyMs: 15, latencyJitterMs: 10}})
    for (const killAt of [1, 12, 27, 44]) {
      const child = p.spawnCli(['apply', '--auto-approve', '--parallelism', '8'])
      let exited = false
      child.on('exit', () => (exited = true))
      await waitForCreated(p, killAt, () => exited)
      child.kill('SIGKILL')
      await new Promise((r) => (exited ? r(undefined) : child.on('exit', r)))
    }
    const rerun = await p.cli(['apply', '--auto-approve'])
    expect(rerun.code, rerun.stdout + rerun.stderr).toBe(0)

    const live = liveCards(p.emulator)
    const titles = live.map((c) => c.card.title as string).sort()
    expect(titles).toEqual(Array.from({length: 50}, (_, i) => `门店卡${String(i).padStart(2, '0')}`))
    const state = p.state()
    expect(Object.values(state.resources).every((r) => r.status === 'created')).toBe(true)
    const stateIds = Object.values(state.resources).map((r) => r.remote_id).sort()
    expect(stateIds).toEqual(live.map((c) => c.card_id).sort())
    for (const [address, r] of Object.entries(state.resources)) {
      const card = p.emulator.admin.getCard(r.remote_id!)!
      expect(card.card.title).toBe(`门店卡${address.slice(-2)}`)
    }
    expect(p.emulator.admin.stats().cards_created).toBe(50)
    expect((await p.cli(['plan', '--detailed-exitcode'])).code).toBe(0)
  })

  for (const killPoint of ['create in flight', 'old card not yet removed'] as const) {
    it(`SIGKILL during a replacement (${killPoint}): the next apply finishes it, no card lost or left behind`, async () => {
      p = await createProject({emulator: {latencyMs: 200}})
      expect((await p.cli(['apply', '--auto-approve', '--allow-irreversible'])).code).toBe(0)
      const oldId = p.state().resources['BrandMemberCard.fitness-plus']!.remote_id!
      p.edit('cards/brand-cards.yaml', 'code_type: QR_CODE', 'code_type: BAR_CODE')
      const child = p.spawnCli(['apply', '--auto-approve', '--allow-destroy', '--parallelism', '1'])
      let exited = false
      child.on('exit', () => (exited = true))
      // Each call takes 200 ms, so the state shows each half well before the next call can answer.
      const reached = () => {
        const r = p!.state().resources['BrandMemberCard.fitness-plus']
        return killPoint === 'create in flight' ? r?.status === 'creating' && r.deposed === oldId : r?.status === 'created' && r.deposed === oldId
      }
      const deadline = Date.now() + 30_000
      while (!exited && !reached()) {
        if (Date.now() > deadline) throw new Error(`the replacement never reached: ${killPoint}`)
        await new Promise((r) => setTimeout(r, 5))
      }
      child.kill('SIGKILL')
      await new Promise((r) => (exited ? r(undefined) : child.on('exit', r)))
      expect(p.emulator.admin.getCard(oldId)!.card.state).toBe('CARD_EFFECTIVE')

      const plan = await p.cli(['plan'])
      expect(plan.stdout).toContain(
        killPoint === 'create in flight' ? 'an earlier apply was interrupted while creating this card' : `did not remove the old card ${oldId}`,
      )
      expect(plan.stdout).toContain('Plan: 0 to create, 0 to update, 1 to replace')
      const rerun = await p.cli(['apply', '--auto-approve', '--allow-destroy'])
      expect(rerun.code, rerun.stdout + rerun.stderr).toBe(0)
      expect(p.emulator.admin.getCard(oldId)!.card.state).toBe('CARD_INVALID')
      const r = p.state().resources['BrandMemberCard.fitness-plus']!
      expect(r.deposed).toBeUndefined()
      expect(p.emulator.admin.getCard(r.remote_id!)!.card).toMatchObject({state: 'CARD_EFFECTIVE', code_type: 'BAR_CODE'})
      // Exactly one live fitness-plus card: the resumed create returned the card made before the kill.
      expect(liveCards(p.emulator).filter((c) => c.card.card_title === '动力健身PLUS')).toHaveLength(1)
      expect((await p.cli(['plan', '--detailed-exitcode'])).code).toBe(0)
    })
  }

  it('a replacement whose DELETE of the old card was made but never answered: the next apply finds the card gone and finishes', async () => {
    // Found by the kill-anywhere experiment (apply killed once the emulator had deleted the old card): the re-run sent
    // the DELETE again, the API refused it (the card is already deleted) and apply could never converge.
    p = await createProject({cards: storeCards(1)})
    expect((await p.cli(['apply', '--auto-approve'])).code).toBe(0)
    const oldId = p.state().resources['MemberCard.store-00']!.remote_id!
    // Every DELETE reaches the emulator; its answer is lost with the connection.
    let deletes = 0
    const proxy = await startProxy(p.emulator.url, (req, res) => (req.method === 'DELETE' && ++deletes > 0 ? 'reset' : res))
    try {
      p.edit('cardform.yaml', `endpoint: ${p.emulator.url}`, `endpoint: ${proxy.url}`)
      p.edit('cards/stores.yaml', 'display_name: 悦享咖啡', 'display_name: 悦享咖啡旗舰')
      const lost = await p.cli(['apply', '--auto-approve', '--allow-destroy'])
      expect(lost.code, lost.stdout + lost.stderr).toBe(1)
      expect(deletes).toBeGreaterThan(0)
      expect(p.emulator.admin.getCard(oldId)!.card.status).toBe('DELETED')
      expect(p.state().resources['MemberCard.store-00']).toMatchObject({status: 'created', deposed: oldId})
    } finally {
      await proxy.close()
    }
    p.edit('cardform.yaml', `endpoint: ${proxy.url}`, `endpoint: ${p.emulator.url}`)
    const rerun = await p.cli(['apply', '--auto-approve', '--allow-destroy'])
    expect(rerun.code, rerun.stdout + rerun.stderr).toBe(0)
    const r = p.state().resources['MemberCard.store-00']!
    expect(r.deposed).toBeUndefined()
    expect(liveCards(p.emulator).map((c) => c.card_id)).toEqual([r.remote_id])
    expect((await p.cli(['plan', '--detailed-exitcode'])).code).toBe(0)
  })

  it('a create interrupted by SIGKILL, then the spec edited: the re-run finishes the create, the next plan shows the edit as a change in config', async () => {
    p = await createProject({cards: storeCards(1), emulator: {latencyMs: 300}})
    const child = p.spawnCli(['apply', '--auto-approve'])
    let exited = false
    child.on('exit', () => (exited = true))
    const deadline = Date.now() + 30_000
    while (!exited && p.read('cardform.yaml') && !existsJournal(p)) {
      if (Date.now() > deadline) throw new Error('the create was never journaled')
      await new Promise((r) => setTimeout(r, 5))
    }
    child.kill('SIGKILL')
    await new Promise((r) => (exited ? r(undefined) : child.on('exit', r)))
    p.edit('cards/stores.yaml', 'title: 门店卡00', 'title: 旗舰店卡')

    const resumed = await p.cli(['apply', '--auto-approve'])
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0)
    expect(resumed.stdout).toContain('warning[create-interrupted-changed]')
    const plan = await p.cli(['plan', '--detailed-exitcode'])
    expect(plan.code).toBe(2)
    expect(plan.stdout).toContain('will be updated in place: changed in config')
    expect(plan.stdout).toContain('~ title: "门店卡00" → "旗舰店卡"')
    expect(plan.stdout).not.toContain('drift')
    expect((await p.cli(['apply', '--auto-approve'])).code).toBe(0)
    expect(liveCards(p.emulator).map((c) => c.card.title)).toEqual(['旗舰店卡'])
    expect(p.emulator.admin.stats().cards_created).toBe(1)
  })

  it('Ctrl-C during an apply starts no new card, finishes and records the calls in flight, then a re-run completes', async () => {
    p = await createProject({cards: storeCards(50), emulator: {latencyMs: 30}})
    const child = p.spawnCli(['apply', '--auto-approve', '--parallelism', '2'])
    let stdout = ''
    child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()))
    const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)))
    await waitForCreated(p, 5, () => false)
    child.kill('SIGINT')
    expect(await exit).toBe(130)
    expect(stdout).toMatch(/Apply interrupted: \d+ cards changed, 0 failed, \d+ skipped \(interrupted\)\./)
    const state = p.state()
    // Nothing was left half-done: every card in state exists, every card that exists is in state, the lock is gone.
    expect(Object.values(state.resources).every((r) => r.status === 'created')).toBe(true)
    expect(Object.values(state.resources).map((r) => r.remote_id).sort()).toEqual(liveCards(p.emulator).map((c) => c.card_id).sort())
    expect(Object.keys(state.resources).length).toBeLessThan(50)
    expect(existsSync(path.join(p.dir, '.cardform/state.json.lock'))).toBe(false)
    const rerun = await p.cli(['apply', '--auto-approve'])
    expect(rerun.code, rerun.stdout + rerun.stderr).toBe(0)
    expect(liveCards(p.emulator)).toHaveLength(50)
    expect(p.emulator.admin.stats().cards_created).toBe(50)
  })

  it('a second concurrent apply fails naming the holder, or waits with --lock-timeout', async () => {
    // Slow enough (50 creates one at a time at 150 ms: ~7.5 s) that the first apply still holds the lock when the second
    // CLI has started, even on a loaded machine where starting a CLI takes seconds.
    p = await createProject({cards: storeCards(50), emulator: {latencyMs: 150}})
    const first = p.spawnCli(['apply', '--auto-approve', '--parallelism', '1'])
    const firstDone = new Promise<number | null>((r) => first.on('exit', (code) => r(code)))
    await waitForCreated(p, 1, () => false)
    const second = await p.cli(['apply', '--auto-approve'])
    expect(second.code).toBe(1)
    expect(second.stderr).toMatch(/error\[state-locked\]: state at \.cardform\/state\.json is locked: lock [0-9a-f-]+ held by \S+ on \S+ \(pid \d+\) for apply since/)
    expect(second.stderr).toContain('cardform force-unlock')
    // A read-only plan can skip the lock.
    const unlocked = await p.cli(['plan', '--lock=false', '--refresh=false'])
    expect(unlocked.code, unlocked.stderr).toBe(0)
    const waited = await p.cli(['plan', '--lock-timeout', '60s', '--detailed-exitcode'])
    expect(await firstDone).toBe(0)
    expect(waited.code, waited.stdout + waited.stderr).toBe(0)
  })
})
