import {createHash} from 'node:crypto'
import {existsSync, readdirSync, readFileSync, rmSync} from 'node:fs'
import {mkdir, open, rm, unlink, type FileHandle} from 'node:fs/promises'
import path from 'node:path'
import {writeFileAtomic, writeFileAtomicSync} from './atomic-write.js'
import type {ReviewRecord} from './review.js'

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
  /** membercard-open: a pending review's due time or a failed review's reason (see review.ts). */
  review?: ReviewRecord
  /** The create request in canonical JSON, to tell an idempotent retry from a conflicting reuse of out_request_no. */
  create_body: string
  /** Creation order, for stable list order. */
  seq: number
}

export type MediaFormat = 'png' | 'jpg' | 'bmp'

/** One uploaded image (POST …/media/image-upload), keyed by the sha256 of its bytes. */
export interface MediaRecord {
  /** Lower-case hex. */
  sha256: string
  /** From the magic bytes; also the URL's and the file's extension. */
  format: MediaFormat
  bytes: Buffer
}

interface StoreFile {
  format_version: 1
  seq: number
  /** The last log line this file holds (absent in files written before the log existed: 0). */
  log_applied?: number
  cards: CardRecord[]
}

/** One line of `cards.log`: the records changed since the previous line, as they are now. */
interface LogLine {
  /** Line number, counting on across compactions: lines at or below the file's `log_applied` are in it already. */
  n: number
  seq: number
  /** reset(): every card before this line is gone. */
  clear?: true
  records: CardRecord[]
}

const STATE_FILE = 'cards.json'
const LOG_FILE = 'cards.log'
/** Uploaded images, one file each, `<sha256>.<format>`: kept out of the log, whose lines would grow by megabytes. */
const MEDIA_DIR = 'media'
const MEDIA_FILE = /^([0-9a-f]{64})\.(png|jpg|bmp)$/
/** The log is folded into cards.json once it is larger than this and than twice cards.json: amortized linear. */
const COMPACT_MIN_BYTES = 1 << 20

/**
 * The cards, in memory, optionally persisted under `dataDir`: `cards.json` holds every record as of the last
 * compaction, and `cards.log` each flush's changed records since, one synced JSON line per flush (so a flush costs
 * the size of its change, not of all the cards). Writes are coalesced (one in flight, the next one covers every
 * mutation made meanwhile), and `flush()` resolves once the mutations made before the call are on disk, so the
 * server answers only after that.
 *
 * Start-up reads cards.json and replays cards.log; a last line cut short by a crash (no newline: its flush never
 * completed, so no answer was sent) is ignored, and a damaged complete line is refused. A log found at start-up is
 * folded in at once, so a new log never continues after a torn line. Compaction (start-up, close, and when the log
 * outgrows the file) writes cards.json atomically (temp, fsync, rename) and then removes the log.
 *
 * Uploaded images are kept beside the cards: each new one is written by the next flush, before its log line (if any),
 * as `media/<sha256>.<format>` (atomically, then the folder synced), and start-up loads every such file whose bytes
 * still hash to its name. A file is written once and never changed: its name is its content's hash.
 */
export class CardStore {
  private cards = new Map<string, CardRecord>()
  /** `family|mchid|out_request_no` → card_id */
  private requests = new Map<string, string>()
  private seq = 0
  private dirty = false
  private writing: Promise<void> | undefined
  private queued: Promise<void> | undefined
  /** Cards changed since the last flush started (persisted stores only). */
  private readonly changed = new Set<string>()
  private cleared = false
  private readonly media = new Map<string, MediaRecord>()
  /** Images uploaded since the last flush started (persisted stores only). */
  private readonly pendingMedia: MediaRecord[] = []
  private mediaCleared = false
  private log: FileHandle | undefined
  private logBytes = 0
  private fileBytes = 0
  /** The number of the last log line written. */
  private lineNo = 0

  private readonly compactMinBytes: number

  constructor(
    private readonly dataDir?: string,
    options: {compactMinBytes?: number} = {},
  ) {
    this.compactMinBytes = options.compactMinBytes ?? COMPACT_MIN_BYTES
    if (!dataDir) return
    const file = path.join(dataDir, STATE_FILE)
    if (existsSync(file)) {
      const text = readFileSync(file, 'utf8')
      const doc = JSON.parse(text) as StoreFile
      this.seq = doc.seq
      this.lineNo = doc.log_applied ?? 0
      this.fileBytes = Buffer.byteLength(text)
      for (const r of doc.cards) this.put(r)
    }
    const logFile = path.join(dataDir, LOG_FILE)
    if (existsSync(logFile)) {
      this.replay(readFileSync(logFile, 'utf8'), logFile)
      this.compactSync()
    }
    this.loadMedia(path.join(dataDir, MEDIA_DIR))
  }

  /** Every `<sha256>.<format>` file; temp files of a write cut short are removed, a file whose hash is wrong refused. */
  private loadMedia(dir: string): void {
    if (!existsSync(dir)) return
    for (const name of readdirSync(dir)) {
      const file = path.join(dir, name)
      if (name.endsWith('.tmp')) {
        rmSync(file, {force: true})
        continue
      }
      const m = MEDIA_FILE.exec(name)
      if (!m) continue
      const bytes = readFileSync(file)
      if (createHash('sha256').update(bytes).digest('hex') !== m[1]) {
        throw new Error(`emulator data ${file} does not hash to its name (damaged); refusing to start`)
      }
      this.media.set(m[1]!, {sha256: m[1]!, format: m[2] as MediaFormat, bytes})
    }
  }

  private replay(text: string, logFile: string): void {
    const end = text.lastIndexOf('\n')
    if (end < 0) return
    text
      .slice(0, end)
      .split('\n')
      .forEach((raw, i) => {
        let line: LogLine
        try {
          line = JSON.parse(raw) as LogLine
        } catch (e) {
          throw new Error(`emulator data ${logFile} line ${i + 1} is damaged (${(e as Error).message}); refusing to start`)
        }
        if (typeof line !== 'object' || line === null || !Number.isInteger(line.n) || !Array.isArray(line.records)) {
          throw new Error(`emulator data ${logFile} line ${i + 1} is not a log line; refusing to start`)
        }
        if (line.n <= this.lineNo) return // already in cards.json (a compaction stopped before removing the log)
        if (line.clear) {
          this.cards.clear()
          this.requests.clear()
        }
        for (const r of line.records) this.put(r)
        this.seq = line.seq
        this.lineNo = line.n
      })
  }

  /** Add or replace a record, keeping the out_request_no index in step. */
  private put(r: CardRecord): void {
    const old = this.cards.get(r.card_id)
    const oldNo = old?.card['out_request_no']
    if (old && typeof oldNo === 'string') this.requests.delete(requestKey(old.family, old.owner_mchid, oldNo))
    this.index(r)
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

  getMedia(sha256: string): MediaRecord | undefined {
    return this.media.get(sha256)
  }

  /** Every uploaded image, in upload order (after a restart: in file name order). */
  allMedia(): MediaRecord[] {
    return [...this.media.values()]
  }

  get mediaCount(): number {
    return this.media.size
  }

  /** Keep a new image; the caller checked it is not there yet. */
  putMedia(r: MediaRecord): MediaRecord {
    this.media.set(r.sha256, r)
    if (this.dataDir) {
      this.pendingMedia.push(r)
      this.dirty = true
    }
    return r
  }

  /** All records in creation order. */
  all(): CardRecord[] {
    return [...this.cards.values()]
  }

  insert(r: Omit<CardRecord, 'seq'>): CardRecord {
    const record = {...r, seq: ++this.seq}
    this.index(record)
    this.changedRecord(record)
    return record
  }

  /** Move a card to another merchant (admin only), keeping its out_request_no index in step. */
  changeOwner(r: CardRecord, mchid: string): void {
    const no = r.card['out_request_no']
    if (typeof no === 'string') this.requests.delete(requestKey(r.family, r.owner_mchid, no))
    r.owner_mchid = mchid
    this.index(r)
    this.changedRecord(r)
  }

  /** Record that `r` was changed in place. */
  touch(r: CardRecord): void {
    this.changedRecord(r)
  }

  clear(): void {
    this.cards.clear()
    this.requests.clear()
    this.seq = 0
    this.dirty = true
    this.cleared = true
    this.changed.clear()
    this.media.clear()
    this.pendingMedia.length = 0
    this.mediaCleared = true
  }

  private changedRecord(r: CardRecord): void {
    this.dirty = true
    if (this.dataDir) this.changed.add(r.card_id)
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
    const media = this.pendingMedia.splice(0)
    const clearMedia = this.mediaCleared
    this.mediaCleared = false
    let text: string | undefined
    if (this.changed.size > 0 || this.cleared) {
      // Serialized now: the records as they are when the flush starts, whatever happens to them while it runs.
      const line: LogLine = {
        n: ++this.lineNo,
        seq: this.seq,
        ...(this.cleared ? {clear: true as const} : {}),
        records: [...this.changed].map((id) => this.cards.get(id)!),
      }
      text = JSON.stringify(line) + '\n'
      this.changed.clear()
      this.cleared = false
    }
    this.writing = this.persist(text, media, clearMedia).finally(() => {
      this.writing = undefined
    })
    return this.writing
  }

  /** The images first (a card line may name their URLs), then the log line. */
  private async persist(logText: string | undefined, media: MediaRecord[], clearMedia: boolean): Promise<void> {
    const dir = path.join(this.dataDir!, MEDIA_DIR)
    if (clearMedia) await rm(dir, {recursive: true, force: true})
    if (media.length > 0) {
      await mkdir(dir, {recursive: true})
      for (const r of media) await writeFileAtomic(path.join(dir, `${r.sha256}.${r.format}`), r.bytes)
      await syncDir(dir)
    }
    if (logText !== undefined) await this.append(logText)
  }

  /** Flush, fold the log into cards.json, and close the log. */
  async close(): Promise<void> {
    await this.flush()
    await this.queued
    if (!this.dataDir) return
    if (this.log || existsSync(path.join(this.dataDir, LOG_FILE))) await this.compact()
  }

  private async append(text: string): Promise<void> {
    const dir = this.dataDir!
    this.log ??= await open(path.join(dir, LOG_FILE), 'a', 0o644)
    await this.log.appendFile(text)
    await this.log.datasync()
    this.logBytes += Buffer.byteLength(text)
    if (this.logBytes > Math.max(this.compactMinBytes, 2 * this.fileBytes)) await this.compact()
  }

  /** Write every record to cards.json (atomically), then remove the log it now holds. */
  private async compact(): Promise<void> {
    const dir = this.dataDir!
    const text = this.fileText()
    await writeFileAtomic(path.join(dir, STATE_FILE), text)
    await syncDir(dir) // the new cards.json must be durable before the log it replaces goes
    this.fileBytes = Buffer.byteLength(text)
    await this.log?.close()
    this.log = undefined
    await unlink(path.join(dir, LOG_FILE)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e
    })
    this.logBytes = 0
  }

  private compactSync(): void {
    const dir = this.dataDir!
    const text = this.fileText()
    writeFileAtomicSync(path.join(dir, STATE_FILE), text)
    this.fileBytes = Buffer.byteLength(text)
    rmSync(path.join(dir, LOG_FILE), {force: true})
  }

  /**
   * cards.json as of now. Mutations not flushed yet are in it too; the log line that flushes them later has a higher
   * number than `log_applied`, so it is replayed over this file, which is harmless: a line holds whole records.
   */
  private fileText(): string {
    const doc: StoreFile = {format_version: 1, seq: this.seq, log_applied: this.lineNo, cards: this.all()}
    return JSON.stringify(doc)
  }
}

async function syncDir(dir: string): Promise<void> {
  const h = await open(dir, 'r')
  try {
    await h.sync()
  } catch {
    // Some filesystems refuse fsync on directories; the rename is still atomic there.
  } finally {
    await h.close()
  }
}

function requestKey(family: Family, mchid: string, outRequestNo: string): string {
  return `${family}|${mchid}|${outRequestNo}`
}
