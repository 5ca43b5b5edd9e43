import {createHash} from 'node:crypto'
import {mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {png, pngOfSize} from '../../support/images.js'
import {createProject, type TestProject} from './project.js'

/**
 * Images from local files, end to end: the CLI against the emulator over loopback. Two brand cards share one picture;
 * a member card has its own logo and background.
 */
const UPLOAD = 'POST /v3/marketing/favor/media/image-upload'

const member = `apiVersion: cardform/v1
kind: MemberCard
metadata:
  name: coffee
spec:
  appid: wx3b0c7a1e5d9f2468
  brand:
    brand_id: "1001622624"
    display_name: 悦享咖啡
  logo_url: {file: assets/logo.png}
  title: 悦享咖啡会员卡
  background_picture_url:
    file: assets/background.png
  description: 会员说明
  code_type: QRCODE
  code_mode: MERCHANT_DEPOSIT
  date_information:
    type: PERMANENT
`

function brand(name: string, colour: string): string {
  return `apiVersion: cardform/v1
kind: BrandMemberCard
metadata:
  name: ${name}
spec:
  brand_id: "1004582931"
  appid: wx5c2e8a0f3d7b9146
  card_type: NORMAL
  card_title: 动力健身${name.slice(-1)}
  card_color: "${colour}"
  card_picture_url: {file: ../shared/card.png}
  code_mode: SYSTEM_ALLOCATE
  code_type: QR_CODE
  benefits: 免费体测
  notify_url: https://api.example.cn/notify
  valid_date_information:
    type: PERMANENT
  member_information:
    jump_appid: wx5c2e8a0f3d7b9146
    jump_path: /pages/member/index
`
}

const uploads = (p: TestProject) => p.emulator.admin.stats().by_route[UPLOAD] ?? 0
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')

function writeImage(p: TestProject, file: string, bytes: Buffer) {
  mkdirSync(path.dirname(path.join(p.dir, file)), {recursive: true})
  writeFileSync(path.join(p.dir, file), bytes)
}

let project: TestProject | undefined
afterEach(async () => {
  await project?.close()
  project = undefined
})

async function imageProject() {
  const p = (project = await createProject({cards: {'coffee/member.yaml': member, 'fitness/a.yaml': brand('fit-a', '#1E88E5'), 'fitness/b.yaml': brand('fit-b', '#212121')}}))
  writeImage(p, 'cards/coffee/assets/logo.png', png(120, 120, '#6D4C41'))
  writeImage(p, 'cards/coffee/assets/background.png', png(1000, 600, '#3E2723'))
  writeImage(p, 'cards/shared/card.png', png(716, 320, '#42A5F5'))
  return p
}

describe('images from local files (end to end)', () => {
  it('plans uploads, uploads each distinct image once, re-plans with nothing to do, and uploads only a changed image', async () => {
    const p = await imageProject()
    const plan = await p.planJson()
    expect(plan.uploads?.map((u) => [u.file, u.width, u.height])).toEqual([
      ['cards/shared/card.png', 716, 320],
      ['cards/coffee/assets/logo.png', 120, 120],
      ['cards/coffee/assets/background.png', 1000, 600],
    ])
    const human = await p.cli(['plan'])
    expect(human.stdout).toMatch(/\+ logo_url: \(file cards\/coffee\/assets\/logo\.png, sha256 [0-9a-f]{12}…, 120×120 png\) will be uploaded/)
    expect(human.stdout).toContain('3 images to upload.')

    const apply = await p.cli(['apply', '--auto-approve'])
    expect(apply.code, apply.stdout + apply.stderr).toBe(0)
    expect(uploads(p)).toBe(3)
    const media = p.state().media!
    expect(Object.keys(media).sort()).toEqual(
      [png(120, 120, '#6D4C41'), png(1000, 600, '#3E2723'), png(716, 320, '#42A5F5')].map(sha).sort(),
    )
    // The live cards hold the URLs, and each URL serves the image it was uploaded from.
    const cards = p.emulator.admin.listCards()
    const coffee = cards.find((c) => c.card.title === '悦享咖啡会员卡')!
    expect(coffee.card.logo_url).toBe(media[sha(png(120, 120, '#6D4C41'))]!.media_url)
    const served = await fetch(coffee.card.logo_url as string)
    expect(served.headers.get('content-type')).toBe('image/png')
    expect(Buffer.from(await served.arrayBuffer()).equals(png(120, 120, '#6D4C41'))).toBe(true)
    const pictures = cards.filter((c) => c.family === 'brand').map((c) => c.card.card_picture_url)
    expect(new Set(pictures).size).toBe(1)

    const again = await p.cli(['plan', '--detailed-exitcode'])
    expect(again.code, again.stdout + again.stderr).toBe(0)
    expect(again.stdout).toContain('No changes.')
    expect(again.stdout).not.toMatch(/upload/)
    expect(uploads(p)).toBe(3)

    // A new logo: only it is uploaded, and the card is updated in place.
    writeImage(p, 'cards/coffee/assets/logo.png', png(120, 120, '#FF7043'))
    const changed = await p.planJson()
    expect(changed.uploads?.map((u) => u.file)).toEqual(['cards/coffee/assets/logo.png'])
    expect(changed.changes.filter((c) => c.action !== 'no-op').map((c) => [c.name, c.action, c.steps.map((s) => s.op)])).toEqual([['coffee', 'update', ['upload', 'patch']]])
    const second = await p.cli(['apply', '--auto-approve'])
    expect(second.code, second.stdout + second.stderr).toBe(0)
    expect(second.stdout).toMatch(/MemberCard\.coffee: upload cards\/coffee\/assets\/logo\.png done/)
    expect(uploads(p)).toBe(4)
    const last = await p.cli(['plan', '--detailed-exitcode'])
    expect(last.code, last.stdout + last.stderr).toBe(0)
  })

  it('drift on an image field compares the live URL with the recorded one, and puts the recorded one back without uploading', async () => {
    const p = await imageProject()
    expect((await p.cli(['apply', '--auto-approve'])).code).toBe(0)
    const coffee = p.emulator.admin.listCards().find((c) => c.card.title === '悦享咖啡会员卡')!
    const recorded = coffee.card.logo_url
    await p.emulator.admin.mutateCard(coffee.card_id, {logo_url: 'https://wxpaylogo.qpic.cn/console/0'})
    const plan = await p.planJson()
    expect(plan.drift.map((d) => d.field_changes.map((f) => [f.path, f.before, f.after]))).toEqual([[['logo_url', recorded, 'https://wxpaylogo.qpic.cn/console/0']]])
    const fix = plan.changes.find((c) => c.name === 'coffee')!
    expect(fix.field_changes).toEqual([{path: 'logo_url', before: 'https://wxpaylogo.qpic.cn/console/0', after: recorded, source: 'drift'}])
    expect(fix.steps.map((s) => s.op)).toEqual(['patch'])
    expect((await p.cli(['apply', '--auto-approve'])).code).toBe(0)
    expect(uploads(p)).toBe(3)
    expect(p.emulator.admin.getCard(coffee.card_id)!.card.logo_url).toBe(recorded)
  })

  it('a saved plan whose image changed before apply fails that card, naming the file, and uploads nothing', async () => {
    const p = await imageProject()
    const saved = await p.cli(['plan', '--out', path.join(p.dir, 'plan.json')])
    expect(saved.code, saved.stderr).toBe(0)
    writeImage(p, 'cards/shared/card.png', png(716, 320, '#000000'))
    const apply = await p.cli(['apply', path.join(p.dir, 'plan.json')])
    expect(apply.code).toBe(1)
    expect(apply.stdout + apply.stderr).toMatch(/cards\/shared\/card\.png changed since the plan \(sha256 [0-9a-f]{12}…, the plan has [0-9a-f]{12}…\); plan again/)
    expect(p.emulator.admin.listCards().filter((c) => c.family === 'brand')).toEqual([])
    expect(uploads(p)).toBe(2) // the member card's two images
  })

  it('validate and plan refuse a too-large or wrong-size image with its position, and nothing is uploaded', async () => {
    const p = await imageProject()
    writeImage(p, 'cards/coffee/assets/logo.png', png(128, 128, '#6D4C41'))
    writeImage(p, 'cards/coffee/assets/background.png', pngOfSize(1000, 600, 1_200_000))
    const validate = await p.cli(['validate'])
    expect(validate.code).toBe(1)
    expect(validate.stdout).toContain('cards/coffee/member.yaml:10:20: error[image-dimensions]: assets/logo.png is 128×128 px; logo_url must be 120×120 px')
    expect(validate.stdout).toMatch(/cards\/coffee\/member\.yaml:13:11: error\[image-too-large\]: assets\/background\.png is 1,200,\d{3} bytes \(1\.14 MiB\); background_picture_url takes at most 1,048,576 bytes \(1\.00 MiB\)/)
    const apply = await p.cli(['apply', '--auto-approve'])
    expect(apply.code).toBe(1)
    expect(uploads(p)).toBe(0)
  })
})
