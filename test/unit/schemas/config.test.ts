import {readFileSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {parse} from 'yaml'
import {packageRoot} from '../../../engine/paths.js'
import {describeErrors, validatorFor} from './validate.js'

function configProblems(config: unknown): string[] {
  const validate = validatorFor('config.schema.json')
  return validate(config) ? [] : describeErrors(validate.errors)
}

const publicKeyMode = {
  endpoint: 'https://api.mch.weixin.qq.com',
  mchid: '1900000001',
  merchant_serial: '3775B6A45ACD588826D15E583A95F5DD12345678',
  merchant_private_key_file: 'keys/apiclient_key.pem',
  wechatpay_public_key_id: 'PUB_KEY_ID_0112345678202401010000000000000000',
  wechatpay_public_key_file: 'keys/pub_key.pem',
}

describe('cardform.yaml schema', () => {
  it('accepts the quickstart project file', () => {
    const text = readFileSync(path.join(packageRoot, 'examples', 'quickstart', 'cardform.yaml'), 'utf8')
    expect(configProblems(parse(text))).toEqual([])
  })

  it('accepts an empty file (every key has a default) and reports misspelt keys', () => {
    expect(configProblems({})).toEqual([])
    expect(configProblems({card: 'cards'})).toEqual([' additionalProperties card'])
    expect(configProblems({provider: {endpoint: 'embedded', mch_id: '1'}})).toEqual(['/provider additionalProperties mch_id'])
  })

  it('takes endpoint "embedded" or an http(s) URL', () => {
    expect(configProblems({provider: {endpoint: 'embedded'}})).toEqual([])
    expect(configProblems({provider: {endpoint: 'ftp://x', credentials_file: 'c.json'}})).toEqual(['/provider/endpoint anyOf', '/provider/endpoint const', '/provider/endpoint pattern', '/provider/endpoint pattern'])
  })

  it('needs complete credentials for a real endpoint unless a credentials file is given', () => {
    expect(configProblems({provider: publicKeyMode})).toEqual([])
    expect(configProblems({provider: {endpoint: 'https://api.mch.weixin.qq.com'}})).toEqual([
      '/provider anyOf',
      '/provider required mchid',
      '/provider required merchant_private_key_file',
      '/provider required merchant_serial',
      '/provider required platform_certificate_serial',
      '/provider required wechatpay_public_key_id',
    ])
    expect(configProblems({provider: {endpoint: 'https://api.mch.weixin.qq.com', credentials_file: 'secrets/wechatpay.json'}})).toEqual([])
  })

  it('refuses public-key mode and platform-certificate mode together, and half a mode', () => {
    expect(configProblems({provider: {...publicKeyMode, platform_certificate_serial: '5157F09EFDC096DE15EBE81A47057A7232F1B8E1', platform_certificate_file: 'keys/platform.pem'}})).toEqual(['/provider not'])
    const {wechatpay_public_key_file: _file, ...halfMode} = publicKeyMode
    expect(configProblems({provider: halfMode})).toEqual(['/provider dependencies wechatpay_public_key_file'])
  })

  it('accepts ${env:NAME} for patterned values and checks the literal forms', () => {
    expect(configProblems({provider: {...publicKeyMode, mchid: '${env:WECHATPAY_MCHID}'}})).toEqual([])
    expect(configProblems({provider: {...publicKeyMode, mchid: 'merchant-1'}})).toEqual(['/provider/mchid anyOf', '/provider/mchid pattern', '/provider/mchid pattern'])
    expect(configProblems({provider: {...publicKeyMode, wechatpay_public_key_id: 'PUB_KEY_1'}})).toEqual([
      '/provider/wechatpay_public_key_id anyOf',
      '/provider/wechatpay_public_key_id pattern',
      '/provider/wechatpay_public_key_id pattern',
    ])
  })

  it('checks rate_limit, timeout_ms and the aggregator block', () => {
    expect(configProblems({provider: {endpoint: 'embedded', rate_limit: 2.5, timeout_ms: 5000, aggregator: {endpoint: 'https://pay.example.cn', token: '${env:AGG_TOKEN}'}}})).toEqual([])
    expect(configProblems({provider: {endpoint: 'embedded', rate_limit: 0}})).toEqual(['/provider/rate_limit exclusiveMinimum'])
    expect(configProblems({provider: {endpoint: 'embedded', aggregator: {endpoint: 'https://pay.example.cn'}}})).toEqual(['/provider/aggregator required token'])
  })

  it('keeps local and pg backend settings apart', () => {
    expect(configProblems({backend: {type: 'local'}})).toEqual([])
    expect(configProblems({backend: {type: 'local', connection: 'postgres://db/cardform'}})).toEqual(['/backend/connection false schema'])
    expect(configProblems({backend: {type: 'pg'}})).toEqual(['/backend required connection'])
    expect(configProblems({backend: {type: 'pg', connection: '${env:DATABASE_URL}', schema_name: 'cardform', workspace: 'prod'}})).toEqual([])
    expect(configProblems({backend: {type: 'pg', connection: 'postgresql://u@h:5432/d', path: 'state.json'}})).toEqual(['/backend/path false schema'])
    expect(configProblems({backend: {type: 'pg', connection: 'mysql://h/d'}})).toEqual(['/backend/connection anyOf', '/backend/connection pattern', '/backend/connection pattern'])
    expect(configProblems({backend: {type: 's3'}})).toEqual(['/backend/type enum'])
  })
})
