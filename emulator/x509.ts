import {createSign, type KeyObject} from 'node:crypto'

/**
 * A minimal DER writer, enough to issue one self-signed X.509 v3 certificate (no extensions) for the emulated
 * platform certificate. Node can parse certificates (X509Certificate) but not create them, and cardform takes no
 * dependency for this; the structure is RFC 5280 §4.1: SEQUENCE {tbsCertificate, signatureAlgorithm, signature}.
 */

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n])
  const bytes: number[] = []
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff)
  return Buffer.from([0x80 | bytes.length, ...bytes])
}

function tlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), derLength(content.length), content])
}

const sequence = (...parts: Buffer[]) => tlv(0x30, Buffer.concat(parts))
const set = (...parts: Buffer[]) => tlv(0x31, Buffer.concat(parts))
const nullValue = Buffer.from([0x05, 0x00])

function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number)
  const out: number[] = [40 * arcs[0]! + arcs[1]!]
  for (const arc of arcs.slice(2)) {
    const chunk: number[] = [arc & 0x7f]
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80)
    out.push(...chunk)
  }
  return tlv(0x06, Buffer.from(out))
}

/** UTCTime before 2050, GeneralizedTime from 2050 on (RFC 5280 §4.1.2.5). */
function time(ms: number): Buffer {
  const iso = new Date(ms).toISOString()
  const digits = iso.slice(0, 19).replace(/[-:T]/g, '')
  return new Date(ms).getUTCFullYear() < 2050
    ? tlv(0x17, Buffer.from(digits.slice(2) + 'Z'))
    : tlv(0x18, Buffer.from(digits + 'Z'))
}

function name(commonName: string): Buffer {
  return sequence(
    set(sequence(oid('2.5.4.6'), tlv(0x13, Buffer.from('CN')))),
    set(sequence(oid('2.5.4.10'), tlv(0x0c, Buffer.from('cardform emulator', 'utf8')))),
    set(sequence(oid('2.5.4.3'), tlv(0x0c, Buffer.from(commonName, 'utf8')))),
  )
}

/**
 * Issue a self-signed certificate for `publicKey`, signed with `privateKey` (sha256WithRSAEncryption).
 * `serialHex` must be 40 hex digits whose first byte is below 0x80, so the DER INTEGER needs no sign byte and the
 * certificate's serial reads back as the same 40 digits.
 */
export function createSelfSignedCertificate(opts: {
  serialHex: string
  commonName: string
  publicKey: KeyObject
  privateKey: KeyObject
  notBeforeMs: number
  notAfterMs: number
}): string {
  const algorithm = sequence(oid('1.2.840.113549.1.1.11'), nullValue)
  const tbs = sequence(
    tlv(0xa0, tlv(0x02, Buffer.from([2]))),
    tlv(0x02, Buffer.from(opts.serialHex, 'hex')),
    algorithm,
    name(opts.commonName),
    sequence(time(opts.notBeforeMs), time(opts.notAfterMs)),
    name(opts.commonName),
    opts.publicKey.export({type: 'spki', format: 'der'}),
  )
  const signature = createSign('RSA-SHA256').update(tbs).sign(opts.privateKey)
  const der = sequence(tbs, algorithm, tlv(0x03, Buffer.concat([Buffer.from([0]), signature])))
  const b64 = der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '')
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`
}
