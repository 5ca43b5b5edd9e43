import {createPrivateKey, createPublicKey, generateKeyPair, randomBytes, type KeyObject} from 'node:crypto'
import {promisify} from 'node:util'
import {existsSync} from 'node:fs'
import {readFile} from 'node:fs/promises'
import path from 'node:path'
import {createRandom, randomDigits, randomHex, type Random} from './random.js'
import {createSelfSignedCertificate} from './x509.js'
import {writeFileAtomic} from './atomic-write.js'

/**
 * What a client needs to talk to the emulator, written to `credentials.json`. File names are relative to the
 * folder holding credentials.json in the file, absolute in the in-process object.
 */
export interface EmulatorCredentials {
  endpoint: string
  mchid: string
  /** 40 hex digits: the serial of the merchant API certificate the private key belongs to. */
  merchant_serial: string
  merchant_private_key_file: string
  /** `PUB_KEY_ID_` and 32 digits: public-key mode (reference §2). */
  wechatpay_public_key_id: string
  wechatpay_public_key_file: string
  /** 40 hex digits: the serial of the platform certificate (platform-certificate mode). */
  platform_certificate_serial: string
  /** A real self-signed X.509 certificate (PEM) holding the platform public key. */
  platform_certificate_file: string
  /** Bearer token of the aggregator route (invented: seed 000 names no authentication). */
  aggregator_token: string
}

/** The emulator's own view: the credentials plus the keys it verifies and signs with. */
export interface EmulatorKeys {
  credentials: EmulatorCredentials
  credentialsFile: string
  merchantPublicKey: KeyObject
  wechatpayPrivateKey: KeyObject
  platformPrivateKey: KeyObject
}

const CREDENTIALS = 'credentials.json'
const FILES = {
  merchantPrivate: 'apiclient_key.pem',
  merchantPublic: 'apiclient_pub.pem',
  wechatpayPublic: 'wechatpay_pub.pem',
  wechatpayPrivate: 'emulator_wechatpay_key.pem',
  platformCertificate: 'wechatpay_platform_cert.pem',
  platformPrivate: 'emulator_platform_key.pem',
} as const

const generateRsa = promisify(generateKeyPair)

async function rsaPair(): Promise<{publicKey: KeyObject; privateKey: KeyObject}> {
  return generateRsa('rsa', {modulusLength: 2048})
}

const pkcs8 = (k: KeyObject) => k.export({type: 'pkcs8', format: 'pem'}) as string
const spki = (k: KeyObject) => k.export({type: 'spki', format: 'pem'}) as string

/** A 40-hex serial whose first byte is below 0x80 (see x509.ts). */
function certificateSerial(random: Random): string {
  return (1 + Math.floor(random() * 7)).toString(16).toUpperCase() + randomHex(random, 39)
}

/**
 * Load the credentials in `dir`, or generate them on first start: an mchid (10 digits), a merchant key pair with a
 * 40-hex serial, a WeChat Pay public key with a `PUB_KEY_ID_` id, a platform certificate, and an aggregator token.
 * Private keys are written with mode 0600. The endpoint is rewritten when it changed (a new port).
 */
export async function loadOrCreateKeys(dir: string, endpoint: string, seed?: number, nowMs = Date.now()): Promise<EmulatorKeys> {
  const file = path.join(dir, CREDENTIALS)
  const abs = (name: string) => path.resolve(dir, name)
  if (existsSync(file)) {
    const stored = JSON.parse(await readFile(file, 'utf8')) as EmulatorCredentials
    if (stored.endpoint !== endpoint) await writeFileAtomic(file, JSON.stringify({...stored, endpoint}, null, 2) + '\n')
    const read = (name: string) => readFile(abs(name), 'utf8')
    return {
      credentials: {
        ...stored,
        endpoint,
        merchant_private_key_file: abs(stored.merchant_private_key_file),
        wechatpay_public_key_file: abs(stored.wechatpay_public_key_file),
        platform_certificate_file: abs(stored.platform_certificate_file),
      },
      credentialsFile: file,
      merchantPublicKey: createPublicKey(await read(FILES.merchantPublic)),
      wechatpayPrivateKey: createPrivateKey(await read(FILES.wechatpayPrivate)),
      platformPrivateKey: createPrivateKey(await read(FILES.platformPrivate)),
    }
  }

  // Ids come from the seeded generator (a different stream than the request knobs), so a seeded emulator is
  // reproducible; the keys themselves are always fresh.
  const random = createRandom(seed === undefined ? undefined : seed ^ 0x5eed)
  const [merchant, wechatpay, platform] = await Promise.all([rsaPair(), rsaPair(), rsaPair()])
  const platformSerial = certificateSerial(random)
  const stored: EmulatorCredentials = {
    endpoint,
    mchid: randomDigits(random, 10),
    merchant_serial: certificateSerial(random),
    merchant_private_key_file: FILES.merchantPrivate,
    wechatpay_public_key_id: `PUB_KEY_ID_${randomDigits(random, 32)}`,
    wechatpay_public_key_file: FILES.wechatpayPublic,
    platform_certificate_serial: platformSerial,
    platform_certificate_file: FILES.platformCertificate,
    aggregator_token: randomBytes(24).toString('base64url'),
  }
  const certificate = createSelfSignedCertificate({
    serialHex: platformSerial,
    commonName: 'Tenpay.com Root CA (cardform emulator)',
    publicKey: platform.publicKey,
    privateKey: platform.privateKey,
    notBeforeMs: nowMs - 86_400_000,
    notAfterMs: nowMs + 5 * 365 * 86_400_000,
  })
  await writeFileAtomic(abs(FILES.merchantPrivate), pkcs8(merchant.privateKey), 0o600)
  await writeFileAtomic(abs(FILES.merchantPublic), spki(merchant.publicKey))
  await writeFileAtomic(abs(FILES.wechatpayPublic), spki(wechatpay.publicKey))
  await writeFileAtomic(abs(FILES.wechatpayPrivate), pkcs8(wechatpay.privateKey), 0o600)
  await writeFileAtomic(abs(FILES.platformCertificate), certificate)
  await writeFileAtomic(abs(FILES.platformPrivate), pkcs8(platform.privateKey), 0o600)
  await writeFileAtomic(file, JSON.stringify(stored, null, 2) + '\n')
  return {
    credentials: {
      ...stored,
      merchant_private_key_file: abs(stored.merchant_private_key_file),
      wechatpay_public_key_file: abs(stored.wechatpay_public_key_file),
      platform_certificate_file: abs(stored.platform_certificate_file),
    },
    credentialsFile: file,
    merchantPublicKey: merchant.publicKey,
    wechatpayPrivateKey: wechatpay.privateKey,
    platformPrivateKey: platform.privateKey,
  }
}
