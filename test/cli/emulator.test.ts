import {describe, expect, it} from 'vitest'
import {spawn} from 'node:child_process'
import {mkdtemp, readFile, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

describe('cardform emulator', () => {
  it('prints the URL and the credentials path, not the keys, serves, and stops on SIGTERM', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'cardform-cli-emu-'))
    try {
      const child = spawn(process.execPath, [path.join(root, 'bin/run.js'), 'emulator', '--data', dir, '--latency', '0'], {cwd: root})
      let out = ''
      child.stdout.on('data', (d: Buffer) => (out += d.toString()))
      child.stderr.on('data', (d: Buffer) => (out += d.toString()))
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
      for (let i = 0; i < 200 && !out.includes('credentials:'); i++) await new Promise((r) => setTimeout(r, 50))
      const url = /listening on (http:\/\/\S+)/.exec(out)?.[1]
      expect(url, out).toBeTruthy()
      expect(out).toContain(path.join(dir, 'credentials.json'))
      expect(out).not.toMatch(/PRIVATE KEY|aggregator_token/)
      const credentials = JSON.parse(await readFile(path.join(dir, 'credentials.json'), 'utf8'))
      expect(credentials.endpoint).toBe(url)
      // Unsigned requests reach the server and are refused the API's way.
      const res = await fetch(`${url}/v3/marketing/membercard-open/cards?limit=1`, {headers: {Accept: 'application/json'}})
      expect(res.status).toBe(401)
      child.kill('SIGTERM')
      expect(await exited).toBe(0)
      expect(out).toContain('emulator stopped')
    } finally {
      await rm(dir, {recursive: true, force: true})
    }
  })

  it('refuses a drop rate outside 0..1', async () => {
    const child = spawn(process.execPath, [path.join(root, 'bin/run.js'), 'emulator', '--drop-rate', '2'], {cwd: root})
    let err = ''
    child.stderr.on('data', (d: Buffer) => (err += d.toString()))
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
    expect(code).not.toBe(0)
    expect(err).toMatch(/probability between 0 and 1/)
  })
})
