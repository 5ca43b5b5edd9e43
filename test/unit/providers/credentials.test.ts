import {generateKeyPairSync} from 'node:crypto'
import {copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {CredentialsError} from '../../../engine/providers/wechatpay/errors.js'
import {
  loadCredentialsFile,
  resolveAggregatorCredentials,
  resolveCredentials,
} from '../../../engine/providers/wechatpay/credentials.js'

const fixtures = fileURLToPath(new URL('../../fixtures/wechatpay/', import.meta.url))
let dir: string
const merchant = generateKeyPairSync('rsa', {modulusLength: 2048})
const platform = generateKeyPairSync('rsa', {modulusLength: 2048})
const MERCHANT_PEM = merchant.privateKey.export({type: 'pkcs8', format: 'pem'}).toString()

const base = {
  endpoint: 'http://127.0.0.1:9',
  mchid: '1900000001',
  merchant_serial: '3775B6A45ACD588826D15E583A95F5DD0000AAAA',
  merchant_private_key_file: 'keys/merchant.pem',
  wechatpay_public_key_id: 'PUB_KEY_ID_0119000000012025010100000000000001',
  wechatpay_public_key_file: 'keys/wechatpay-public.pem',
}

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'cardform-credentials-'))
  mkdirSync(path.join(dir, 'keys'))
  writeFileSync(path.join(dir, 'keys/merchant.pem'), MERCHANT_PEM)
  writeFileSync(path.join(dir, 'keys/wechatpay-public.pem'), platform.publicKey.export({type: 'spki', format: 'pem'}))
  copyFileSync(path.join(fixtures, 'platform-cert.pem'), path.join(dir, 'keys/platform-cert.pem'))
  writeFileSync(path.join(dir, 'keys/not-a-key.pem'), '-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWJ5dGVz\n-----END PRIVATE KEY-----\n')
})

afterAll(() => rmSync(dir, {recursive: true, force: true}))

function writeJson(name: string, value: unknown): string {
  const file = path.join(dir, name)
  writeFileSync(file, JSON.stringify(value))
  return file
}

describe('loadCredentialsFile', () => {
  it('resolves key files relative to the credentials file, in public-key mode', () => {
    const options = loadCredentialsFile(writeJson('credentials.json', base))
    expect(options).toMatchObject({endpoint: base.endpoint, mchid: base.mchid, merchantSerial: base.merchant_serial})
    expect(options.verification).toMatchObject({mode: 'public-key', publicKeyId: base.wechatpay_public_key_id})
  })

  it('prefers public-key mode when both modes are configured, and switches on request', () => {
    const file = writeJson('both.json', {
      ...base,
      platform_certificate_serial: '5157F09EFDC096DE15EBE81A47057A7232F1B8E1',
      platform_certificate_file: 'keys/platform-cert.pem',
    })
    expect(loadCredentialsFile(file).verification.mode).toBe('public-key')
    const cert = loadCredentialsFile(file, {keyMode: 'platform-certificate'}).verification
    expect(cert.mode).toBe('platform-certificate')
    if (cert.mode === 'platform-certificate') {
      expect([...cert.certificates.keys()]).toEqual(['5157F09EFDC096DE15EBE81A47057A7232F1B8E1'])
    }
  })
})

describe('resolveCredentials', () => {
  it('names exactly what is missing and for which endpoint', () => {
    const {merchant_private_key_file: _omit, ...rest} = base
    expect(() => resolveCredentials(rest, {baseDir: dir})).toThrow(
      new CredentialsError('provider.merchant_private_key_file is required for endpoint http://127.0.0.1:9'),
    )
  })

  it('lists several missing keys in one message', () => {
    expect(() => resolveCredentials({endpoint: 'https://api.mch.weixin.qq.com'}, {baseDir: dir})).toThrow(
      'provider.mchid, provider.merchant_serial, provider.merchant_private_key_file and provider.wechatpay_public_key_id ' +
        'with provider.wechatpay_public_key_file (public-key mode) or provider.platform_certificate_file ' +
        '(platform-certificate mode) are required for endpoint https://api.mch.weixin.qq.com',
    )
  })

  it('names the missing half of a public-key pair', () => {
    const {wechatpay_public_key_file: _omit, ...rest} = base
    expect(() => resolveCredentials(rest, {baseDir: dir})).toThrow(/^provider\.wechatpay_public_key_file is required/)
  })

  it('requires the endpoint first', () => {
    expect(() => resolveCredentials({mchid: '1'}, {baseDir: dir})).toThrow('provider.endpoint is required')
  })

  it('reads a credentials_file and lets inline keys win', () => {
    const file = writeJson('inline.json', base)
    const options = resolveCredentials({credentials_file: path.basename(file), endpoint: 'http://127.0.0.1:10'}, {baseDir: dir})
    expect(options.endpoint).toBe('http://127.0.0.1:10')
    expect(options.mchid).toBe(base.mchid)
  })

  it('names an unreadable key file without printing its content', () => {
    try {
      resolveCredentials({...base, merchant_private_key_file: 'keys/not-a-key.pem'}, {baseDir: dir})
      expect.unreachable()
    } catch (e) {
      expect(e).toBeInstanceOf(CredentialsError)
      expect((e as Error).message).toMatch(/^provider\.merchant_private_key_file "keys\/not-a-key\.pem" is not a PEM RSA private key/)
      expect((e as Error).message).not.toContain('c2VjcmV0')
    }
  })

  it('says when a key file does not exist', () => {
    expect(() => resolveCredentials({...base, wechatpay_public_key_file: 'keys/missing.pem'}, {baseDir: dir})).toThrow(
      'cannot read provider.wechatpay_public_key_file "keys/missing.pem": no such file',
    )
  })

  it('maps rate_limit and timeout_ms to client options', () => {
    const options = resolveCredentials({...base, rate_limit: 3, timeout_ms: 2500}, {baseDir: dir})
    expect(options.rateLimit).toEqual({qps: 3})
    // timeout_ms is "timeout of one HTTP request": each phase, and the whole attempt (a trickled body included).
    expect(options.transport).toEqual({connectTimeoutMs: 2500, headersTimeoutMs: 2500, bodyTimeoutMs: 2500, responseTimeoutMs: 2500})
  })

  it('maps max_response_bytes to the transport cap, and refuses a cap that is not a positive integer', () => {
    expect(resolveCredentials({...base, max_response_bytes: 65536}, {baseDir: dir}).transport).toEqual({maxResponseBytes: 65536})
    expect(() => resolveCredentials({...base, max_response_bytes: 0.5}, {baseDir: dir})).toThrow(/max_response_bytes must be a positive integer/)
  })

  it('refuses a public key id of the wrong shape', () => {
    expect(() => resolveCredentials({...base, wechatpay_public_key_id: 'ABC'}, {baseDir: dir})).toThrow(
      /wechatpay_public_key_id must look like PUB_KEY_ID_/,
    )
  })
})

describe('resolveAggregatorCredentials', () => {
  it('falls back to aggregator_token and the main endpoint, as the emulator writes them', () => {
    expect(resolveAggregatorCredentials({...base, aggregator_token: 'tok'}, {baseDir: dir})).toEqual({
      endpoint: base.endpoint,
      token: 'tok',
    })
  })

  it('prefers the aggregator block', () => {
    const creds = resolveAggregatorCredentials(
      {...base, aggregator_token: 'a', aggregator: {endpoint: 'https://agg.example', token: 'b'}},
      {baseDir: dir},
    )
    expect(creds).toEqual({endpoint: 'https://agg.example', token: 'b'})
  })

  it('names the missing token', () => {
    expect(() => resolveAggregatorCredentials(base, {baseDir: dir})).toThrow(
      'provider.aggregator.token (or provider.aggregator_token) is required for endpoint http://127.0.0.1:9',
    )
  })
})
