import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {createHash} from 'node:crypto'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {formatPosition} from '../../../engine/model/diagnostic.js'
import {loadProject} from '../../../engine/spec/load-project.js'
import {GIF_1X1, png, pngOfSize} from '../../support/images.js'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, {recursive: true, force: true})
})

/** A project of one MemberCard and one BrandMemberCard whose image fields are `images`; files are written under cards/. */
function project(fields: {logo?: string; background?: string; picture?: string}, files: Record<string, Buffer>) {
  const dir = mkdtempSync(path.join(tmpdir(), 'cardform-images-'))
  dirs.push(dir)
  mkdirSync(path.join(dir, 'cards/assets'), {recursive: true})
  writeFileSync(path.join(dir, 'cardform.yaml'), 'cards: cards\nprovider:\n  endpoint: embedded\nbackend:\n  type: local\n')
  for (const [file, bytes] of Object.entries(files)) writeFileSync(path.join(dir, 'cards', file), bytes)
  writeFileSync(
    path.join(dir, 'cards/member.yaml'),
    [
      'apiVersion: cardform/v1',
      'kind: MemberCard',
      'metadata:',
      '  name: coffee',
      'spec:',
      '  appid: wx3b0c7a1e5d9f2468',
      '  brand: {brand_id: "1001622624", display_name: 悦享咖啡}',
      `  logo_url: ${fields.logo ?? 'https://wxpaylogo.qpic.cn/logo/0'}`,
      '  title: 悦享咖啡会员卡',
      `  background_picture_url: ${fields.background ?? 'https://wxpaylogo.qpic.cn/bg/0'}`,
      '  description: 会员说明',
      '  code_type: QRCODE',
      '  code_mode: MERCHANT_DEPOSIT',
      '  date_information: {type: PERMANENT}',
      '',
    ].join('\n'),
  )
  writeFileSync(
    path.join(dir, 'cards/brand.yaml'),
    [
      'apiVersion: cardform/v1',
      'kind: BrandMemberCard',
      'metadata:',
      '  name: fitness',
      'spec:',
      '  brand_id: "1004582931"',
      '  appid: wx5c2e8a0f3d7b9146',
      '  card_type: NORMAL',
      '  card_title: 动力健身会员',
      '  card_color: "#1E88E5"',
      `  card_picture_url: ${fields.picture ?? 'https://wxpaylogo.qpic.cn/card/0'}`,
      '  code_mode: SYSTEM_ALLOCATE',
      '  code_type: QR_CODE',
      '  benefits: 免费体测',
      '  notify_url: https://api.example.cn/notify',
      '  valid_date_information: {type: PERMANENT}',
      '  member_information: {jump_appid: wx5c2e8a0f3d7b9146, jump_path: /pages/member/index}',
      '',
    ].join('\n'),
  )
  return dir
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')
const where = (p: Awaited<ReturnType<typeof loadProject>>) => p.diagnostics.map((d) => `${formatPosition(d.source)} ${d.severity} ${d.code}: ${d.message}`)

describe('image fields that name local files', () => {
  it('reads each file once per path, relative to the spec file, and describes it (sha256, bytes, format, pixels)', async () => {
    const logo = png(120, 120, '#6D4C41')
    const bg = png(1000, 600, '#3E2723')
    const card = png(716, 320, '#1E88E5')
    const dir = project({logo: '{file: assets/logo.png}', background: '{file: ./assets/bg.png}', picture: '{file: assets/card.png}'}, {'assets/logo.png': logo, 'assets/bg.png': bg, 'assets/card.png': card})
    const p = await loadProject(dir, {env: {}})
    expect(where(p)).toEqual([])
    const member = p.documents.find((d) => d.kind === 'MemberCard')!
    expect(member.images).toEqual({
      logo_url: {file: 'cards/assets/logo.png', sha256: sha(logo), bytes: logo.length, format: 'png', width: 120, height: 120},
      background_picture_url: {file: 'cards/assets/bg.png', sha256: sha(bg), bytes: bg.length, format: 'png', width: 1000, height: 600},
    })
    expect(member.spec.logo_url).toEqual({file: 'assets/logo.png'})
    expect(p.documents.find((d) => d.kind === 'BrandMemberCard')!.images).toEqual({
      card_picture_url: {file: 'cards/assets/card.png', sha256: sha(card), bytes: card.length, format: 'png', width: 716, height: 320},
    })
  })

  it('reports wrong pixels (an error where the size is documented, a warning where it is recommended) at the file: value', async () => {
    const dir = project(
      {logo: '{file: assets/logo.png}', picture: '{file: assets/card.png}'},
      {'assets/logo.png': png(100, 100, '#000000'), 'assets/card.png': png(700, 300, '#1E88E5')},
    )
    const p = await loadProject(dir, {env: {}})
    expect(where(p)).toEqual([
      'cards/brand.yaml:11:28 warning image-dimensions: assets/card.png is 700×300 px; 716×320 px is recommended for card_picture_url',
      'cards/member.yaml:8:20 error image-dimensions: assets/logo.png is 100×100 px; logo_url must be 120×120 px',
    ])
    // The card with an error cannot be planned; the one with a warning can.
    expect(p.documents.map((d) => d.address)).toEqual(['BrandMemberCard.fitness'])
  })

  it('refuses a file over the field limit, another format, a file that is not an image, and a missing file', async () => {
    const dir = project(
      {logo: '{file: assets/big.png}', background: '{file: assets/anim.gif}', picture: '{file: assets/missing.png}'},
      {'assets/big.png': pngOfSize(120, 120, 1_100_000), 'assets/anim.gif': GIF_1X1},
    )
    const p = await loadProject(dir, {env: {}})
    expect(where(p)).toEqual([
      'cards/brand.yaml:11:28 error image-file-missing: assets/missing.png does not exist (the path is relative to the spec file)',
      expect.stringMatching(/^cards\/member\.yaml:8:20 error image-too-large: assets\/big\.png is 1,100,\d{3} bytes \(1\.05 MiB\); logo_url takes at most 1,048,576 bytes \(1\.00 MiB\)$/),
      'cards/member.yaml:10:34 error image-format: assets/anim.gif is a GIF image; background_picture_url takes JPG, PNG or BMP',
    ])
    expect(p.documents).toEqual([])
  })

  it('refuses a BMP for the logo (JPG or PNG only) and text named .png', async () => {
    const bmp = Buffer.alloc(58)
    bmp.write('BM', 0, 'latin1')
    bmp.writeUInt32LE(58, 2)
    bmp.writeUInt32LE(54, 10)
    bmp.writeUInt32LE(40, 14)
    bmp.writeInt32LE(120, 18)
    bmp.writeInt32LE(120, 22)
    bmp.writeUInt16LE(1, 26)
    bmp.writeUInt16LE(24, 28)
    const dir = project({logo: '{file: assets/logo.bmp}', background: '{file: assets/bg.png}'}, {'assets/logo.bmp': bmp, 'assets/bg.png': Buffer.from('not an image at all\n')})
    const p = await loadProject(dir, {env: {}})
    expect(where(p)).toEqual([
      'cards/member.yaml:8:20 error image-format: assets/logo.bmp is a BMP image; logo_url takes JPG or PNG',
      'cards/member.yaml:10:34 error image-format: assets/bg.png is not an image cardform can read (JPG, PNG or BMP); background_picture_url takes JPG, PNG or BMP',
    ])
  })

  it('checks the form of the reference with the schema: {file} only, and a string or a mapping', async () => {
    const dir = project({logo: '{path: assets/logo.png}', picture: '5'}, {})
    const p = await loadProject(dir, {env: {}})
    expect(p.diagnostics.map((d) => `${formatPosition(d.source)} ${d.code}`)).toEqual([
      'cards/brand.yaml:11:21 schema-type',
      'cards/member.yaml:8:3 schema-required',
      'cards/member.yaml:8:14 schema-unknown-key',
    ])
  })
})
