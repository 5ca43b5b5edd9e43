import {afterEach, describe, expect, it} from 'vitest'
import {createProject, liveCards, type TestProject} from './project.js'

/** 50 distinct MemberCards, so a duplicate would show as two live cards with one title. */
function fiftyCards(): Record<string, string> {
  const docs: string[] = []
  for (let i = 0; i < 50; i++) {
    docs.push(`apiVersion: cardform/v1
kind: MemberCard
metadata:
  name: store-${String(i).padStart(2, '0')}
spec:
  appid: wx3b0c7a1e5d9f2468
  brand:
    brand_id: "1001622624"
    display_name: 悦享咖啡
  logo_url: https://wxpaylogo.qpic.cn/wxpaylogo/logo/0
  title: 门店卡${String(i).padStart(2, '0')}
  background_picture_url: https://wxpaylogo.qpic.cn/wxpaylogo/bg/0
  description: 门店会员卡 ${i}
  code_type: QRCODE
  code_mode: SYSTEM_ALLOCATE
  date_information:
    type: PERMANENT
`)
  }
  return {'stores.yaml': docs.join('---\n')}
}

let p: TestProject | undefined
afterEach(async () => {
  await p?.close()
  p = undefined
})

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
    p = await createProject({cards: fiftyCards(), emulator: {latencyMs: 15, latencyJitterMs: 10}})
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

  it('a second concurrent apply fails naming the holder, or waits with --lock-timeout', async () => {
    p = await createProject({cards: fiftyCards(), emulator: {latencyMs: 40}})
    const first = p.spawnCli(['apply', '--auto-approve', '--parallelism', '2'])
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
