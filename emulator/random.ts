import {randomBytes} from 'node:crypto'

/** A seeded PRNG (mulberry32): tests pass `seed` so that ids and the realism knobs are reproducible. */
export type Random = () => number

export function createRandom(seed?: number): Random {
  let a = (seed ?? randomBytes(4).readUInt32LE(0)) >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/**
 * A card_id shaped like the documented example `pbLatjvWOibDc5-TBnbUk1pD12o0`: 'p' and 27 base64url characters, never
 * one that is `taken`. A seeded emulator restarted on its --data draws the same sequence again: without the check its
 * first new card would take the id of the first card it ever made, and replace it.
 */
export function createCardId(random: Random, taken: (id: string) => boolean): string {
  for (;;) {
    let id = 'p'
    for (let i = 0; i < 27; i++) id += ID_ALPHABET[Math.floor(random() * 64)]
    if (!taken(id)) return id
  }
}

export function randomDigits(random: Random, n: number, firstNonZero = true): string {
  let s = ''
  for (let i = 0; i < n; i++) {
    const d = i === 0 && firstNonZero ? 1 + Math.floor(random() * 9) : Math.floor(random() * 10)
    s += String(d)
  }
  return s
}

export function randomHex(random: Random, n: number): string {
  let s = ''
  for (let i = 0; i < n; i++) s += Math.floor(random() * 16).toString(16)
  return s.toUpperCase()
}
