import {spawnSync} from 'node:child_process'
import {cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {packageRoot} from '../../engine/paths.js'

let dir: string
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'cardform-creds-'))
  mkdirSync(path.join(dir, 'cards'))
  cpSync(path.join(packageRoot, 'examples/quickstart/cards/bookstore-reader.yaml'), path.join(dir, 'cards/reader.yaml'))
})
afterEach(() => rmSync(dir, {recursive: true, force: true}))

function cardform(...args: string[]) {
  return spawnSync(process.execPath, [path.join(packageRoot, 'bin/run.js'), ...args, '-C', dir], {encoding: 'utf8', env: {...process.env, NO_COLOR: '1'}})
}

describe('against a real URL, missing credentials', () => {
  it('are named one by one when cardform.yaml lacks them', () => {
    writeFileSync(path.join(dir, 'cardform.yaml'), 'provider:\n  endpoint: https://api.mch.weixin.qq.com\n  mchid: "1900000001"\n')
    const r = cardform('plan')
    expect(r.status).toBe(1)
    expect(r.stderr).toContain('provider.merchant_serial is required when provider.endpoint is not "embedded"')
    expect(r.stderr).toContain('provider.merchant_private_key_file is required')
  })

  it('are named when a credentials file lacks them, before anything is applied', () => {
    writeFileSync(path.join(dir, 'cardform.yaml'), 'provider:\n  endpoint: https://api.mch.weixin.qq.com\n  credentials_file: creds.json\n')
    writeFileSync(path.join(dir, 'creds.json'), '{"mchid": "1900000001"}')
    const r = cardform('apply', '--auto-approve')
    expect(r.status).toBe(1)
    expect(r.stderr).toMatch(/error\[config-credentials\]: cardform\.yaml: provider\.merchant_serial, provider\.merchant_private_key_file .* are required for endpoint https:\/\/api\.mch\.weixin\.qq\.com/)
    expect(r.stdout).not.toContain('Apply complete')
  })
})
