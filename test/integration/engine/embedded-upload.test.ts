import {mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {openWorkspace, WORK_DIR} from '../../../engine/workspace.js'
import {pngImage, sha256} from '../../emulator/images.js'

let dir: string | undefined
afterEach(() => {
  if (dir) rmSync(dir, {recursive: true, force: true})
  dir = undefined
})

describe('image upload with the embedded emulator', () => {
  it('uploads through the workspace gateway and keeps the image in the project’s emulator data', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'cardform-embedded-upload-'))
    mkdirSync(path.join(dir, 'cards'))
    writeFileSync(path.join(dir, 'cardform.yaml'), 'cards: cards\nprovider:\n  endpoint: embedded\n')
    const {workspace, diagnostics} = await openWorkspace(dir)
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([])
    const bytes = pngImage(500)
    try {
      const gateway = await workspace!.gateway()
      const {mediaUrl} = await gateway.uploadImage({filename: 'logo.png', bytes, sha256: sha256(bytes)})
      expect(mediaUrl).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:\\d+/media/${sha256(bytes)}\\.png$`))
      expect(Buffer.from(await (await fetch(mediaUrl)).arrayBuffer())).toEqual(bytes)
    } finally {
      await workspace!.close()
    }
    expect(readdirSync(path.join(dir, WORK_DIR, 'emulator', 'media'))).toEqual([`${sha256(bytes)}.png`])
  })
})
