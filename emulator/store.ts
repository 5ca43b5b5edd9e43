import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {writeFileAtomic} from './atomic-write.js'

export type Family = 'membercard-open' | 'brand' | 'aggregator'

/** One card template as the emulator holds it. */
export interface CardRecord {
  family: Family
  card_id: string
  /** The merchant that created it (reference §3: "会员卡的创建商户号不等于调用方商户号"). */
  owner_mchid: string
  /** The card exactly as GET returns it, server-computed fields included. */
  card: Record<string, unknown>
  /** membercard-open rights (PATCH …/rights): stored, never returned by GET or list. */
  rights?: Record<string, unknown>
  /** The create request in canonical JSON, to tell an idempotent retry from a conflicting reuse of out_request_no. */
  create_body: string
  /** Creation order, for stable list order. */
  seq: number
}

interface StoreFile {
  format_version: 1
  seq: number
  cards: CardRecord[]
}

const STATE_FILE = 'cards.json'

/**
 * The cards, in memory, optionally persisted to `dataDir/cards.json`. Persistence writes the whole document
 * atomically; writes are coalesced (one in flight, the next one covers every mutation made meanwhile), and
 * `flush()` resolves once the mutations made before the call are on disk, so the server answers only after that.
 */
export class CardStore {
  private cards = new Map<string, CardRecord>()
  /** `family|mchid|out_request_no` → card_id */
  private requests = new Map<string, string>()
  private seq = 0
  private dirty = false
  private writing: Promise<void> | undefined
  private queued: Promise<void> | undefined

  constructor(private readonly dataDir?: string) {
    if (dataDir && existsSync(path.join(dataDir, STATE_FILE))) {
      const doc = JSON.parse(readFileSync(path.join(dataDir, STATE_FILE), 'utf8')) as StoreFile
      this.seq = doc.seq
      for (const r of doc.cards) this.index(r)
    }
  }

  private index(r: CardRecord): void {
    this.cards.set(r.card_id, r)
    const no = r.card['out_request_no']
    if (typeof no === 'string') this.requests.set(requestKey(r.family, r.owner_mchid, no), r.card_id)
  }

  get(cardId: string): CardRecord | undefined {
    return this.cards.get(cardId)
  }

  byRequest(family: Family, mchid: string, outRequestNo: string): CardRecord | undefined {
    const id = this.requests.get(requestKey(family, mchid, outRequestNo))
    return id === undefined ? undefined : this.cards.get(id)
  }

  /** All records in creation order. */
  all(): CardRecord[] {
    return [...this.cards.values()]
  }

  insert(r: Omit<CardRecord, 'seq'>): CardRecord {
    const record = {...r, seq: ++this.seq}
    this.index(record)
    this.dirty = true
    return record
  }

  /** Move a card to another merchant (admin only), keeping its out_request_no index in step. */
  changeOwner(r: CardRecord, mchid: string): void {
    const no = r.card['out_request_no']
    if (typeof no === 'string') this.requests.delete(requestKey(r.family, r.owner_mchid, no))
    r.owner_mchid = mchid
    this.index(r)
    this.dirty = true
  }

  /** Record that `r` was changed in place. */
  touch(_r: CardRecord): void {
    this.dirty = true
  }

  clear(): void {
    this.cards.clear()
    this.requests.clear()
    this.seq = 0
    this.dirty = true
  }

  get size(): number {
    return this.cards.size
  }

  /** Persist pending mutations; a no-op in memory-only mode or when nothing changed. */
  flush(): Promise<void> {
    if (!this.dataDir || !this.dirty) return this.writing ?? Promise.resolve()
    if (this.writing) {
      // A write is in flight and does not cover the latest mutations: queue exactly one more.
      this.queued ??= this.writing.then(() => {
        this.queued = undefined
        return this.flush()
      })
      return this.queued
    }
    this.dirty = false
    const doc: StoreFile = {format_version: 1, seq: this.seq, cards: this.all()}
    const file = path.join(this.dataDir, STATE_FILE)
    this.writing = writeFileAtomic(file, JSON.stringify(doc)).finally(() => {
      this.writing = undefined
    })
    return this.writing
  }
}

function requestKey(family: Family, mchid: string, outRequestNo: string): string {
  return `${family}|${mchid}|${outRequestNo}`
}
