import {randomUUID} from 'node:crypto'
import {constants, promises as fs} from 'node:fs'
import type {FileHandle} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type {StateChanges, StateDocument} from '../model/state.js'
import {LockHeldError, StateCorruptError, StateError, newLockInfo, unknownHolder, type LockInfo} from './errors.js'
import {foldJournal, formatJournalHeader, formatJournalRecord, parseJournalFile} from './journal.js'
import {checkState, parseState, serializeState} from './state-document.js'
import type {StateStore} from './store.js'
import {crashDue, crashNow} from './test-crash.js'

const LOCK_POLL_MS = 200
/** A reader that finds a journal newer than the document it read raced a compaction: it reads again this often. */
const READ_ATTEMPTS = 3

/**
 * The local state backend: one JSON file, written as temp file → fsync → rename (never truncate-then-write, the
 * cause of Terraform's empty state files), with the previous version kept as `<file>.backup`. The lock is a
 * `<file>.lock` file holding the LockInfo as JSON, made whole in one step (written under a name of its own, then
 * hard-linked to the lock's name, which fails when a lock is there).
 *
 * Checkpoints during an apply are appended to `<file>.journal` (see journal.ts), one synced line each, so that a
 * checkpoint costs the size of its change: rewriting the whole file every time made an apply quadratic. Reading is
 * the file plus its journal; `compact` (at the end of an apply, and at the start of the next one when a crash left a
 * journal) writes the folded document as above and then removes the journal. A crash between the two leaves a
 * journal whose records the new file already holds: they are recognised by their serials and skipped.
 *
 * `crashDue`/`crashNow` (test-crash.ts) are a test hook, inert unless CARDFORM_TEST_CRASH is set: the kill-anywhere
 * experiment uses them to die half-way through an append or at each step of a whole-file write.
 */
export class FileStateStore implements StateStore {
  readonly location: string
  private readonly lockPath: string
  private readonly journalPath: string
  private readonly journalName: string
  private verifiedExisting = false
  /** The lineage and serial of the document in the file, as this store last read or wrote it; null: no file. */
  private base: {lineage: string; serial: number} | null = null
  /** A journal file is there that this store did not start (an interrupted run's): compact before appending. */
  private foreignJournal = false
  /** The journal this store appends to, open for appending. */
  private journal: FileHandle | null = null
  /** An append failed: the journal may end in a partial line, so the next checkpoint rewrites everything. */
  private broken = false
  /** The serial of the state as last read, written or appended. */
  private lastSerial = 0

  constructor(
    private readonly file: string,
    private readonly version: string,
    /** Shown in messages instead of the absolute path (relative to the project). */
    displayPath?: string,
  ) {
    this.location = displayPath ?? file
    this.lockPath = `${file}.lock`
    this.journalPath = `${file}.journal`
    this.journalName = `${this.location}.journal`
  }

  async read(): Promise<StateDocument | null> {
    return this.io('reading', () => this.readNow())
  }

  private async readNow(): Promise<StateDocument | null> {
    for (let attempt = 1; ; attempt++) {
      const text = await readIfExists(this.file)
      const journal = await readIfExists(this.journalPath)
      if (text === null) {
        if (journal !== null && journal.includes('\n')) {
          throw new StateCorruptError(this.location, `there is a journal (${this.journalName}) but no state file it continues`)
        }
        return null
      }
      const doc = parseState(text, this.location)
      const base = {lineage: doc.lineage, serial: doc.serial}
      if (journal !== null) {
        const folded = this.fold(doc, journal)
        // The journal continues a newer document than the one read: a compaction (and a new journal) happened between
        // the two reads. Read both again.
        if (folded === 'newer-journal' && attempt < READ_ATTEMPTS) continue
        if (folded === 'newer-journal') {
          throw new StateCorruptError(this.location, `its journal ${this.journalName} continues a later serial than the file's ${base.serial}`)
        }
      }
      this.verifiedExisting = true
      this.base = base
      this.foreignJournal = journal !== null && this.journal === null
      this.lastSerial = doc.serial
      return doc
    }
  }

  /** Fold the journal's records into `doc` and check the result; 'newer-journal' when it continues a later document. */
  private fold(doc: StateDocument, text: string): 'ok' | 'newer-journal' {
    const {header, records} = parseJournalFile(text, this.location, this.journalName)
    if (!header) return 'ok'
    if (header.lineage !== doc.lineage) {
      throw new StateCorruptError(this.location, `its journal ${this.journalName} belongs to lineage ${header.lineage}, not ${doc.lineage}`)
    }
    if (header.base_serial > doc.serial) return 'newer-journal'
    const baseSerial = doc.serial
    const applied = foldJournal(doc, records, this.location)
    // An older journal (a compaction stopped before removing it) holds nothing the file lacks; a gap would lose changes.
    if (header.base_serial < baseSerial && applied > 0) {
      throw new StateCorruptError(this.location, `its journal ${this.journalName} continues serial ${header.base_serial}, not the file's ${baseSerial}`)
    }
    if (applied > 0) checkState(doc, this.location)
    return 'ok'
  }

  async write(doc: StateDocument): Promise<void> {
    return this.io('writing', () => this.writeNow(doc))
  }

  private async writeNow(doc: StateDocument): Promise<void> {
    await fs.mkdir(path.dirname(this.file), {recursive: true})
    if (!this.verifiedExisting) await this.checkExisting(doc)
    await this.replaceFile(doc, 'write')
  }

  canAppend(): boolean {
    return this.verifiedExisting && this.base !== null && !this.foreignJournal && !this.broken
  }

  async append(changes: StateChanges): Promise<void> {
    return this.io('writing', () => this.appendNow(changes))
  }

  private async appendNow(changes: StateChanges): Promise<void> {
    if (!this.canAppend() || !this.base) {
      throw new StateError(`cannot append to the journal of ${this.location} now; write the whole state`, 'state-journal')
    }
    if (changes.lineage !== this.base.lineage) {
      throw new StateError(
        `refusing to write state at ${this.location}: it belongs to lineage ${this.base.lineage}, not ${changes.lineage}`,
        'state-lineage',
      )
    }
    const record = formatJournalRecord(changes)
    try {
      if (!this.journal) {
        // A new journal: its header names the document it continues. The directory entry is synced once.
        const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_APPEND
        const handle = await fs.open(this.journalPath, flags, 0o600)
        this.journal = handle
        await appendLine(handle, formatJournalHeader(this.base.lineage, this.base.serial) + record)
        await syncDir(path.dirname(this.file))
      } else {
        await appendLine(this.journal, record)
      }
    } catch (e) {
      this.broken = true
      await this.closeJournal()
      throw e
    }
    this.lastSerial = changes.serial
  }

  async compact(doc: StateDocument): Promise<void> {
    return this.io('writing', () => this.compactNow(doc))
  }

  private async compactNow(doc: StateDocument): Promise<void> {
    if (!this.journal && !this.foreignJournal && !(await exists(this.journalPath))) return
    if (doc.serial !== this.lastSerial) {
      throw new StateError(
        `cannot compact the journal of ${this.location}: the state given is at serial ${doc.serial}, the journal at ${this.lastSerial}`,
        'state-serial',
      )
    }
    await this.replaceFile(doc, 'compact')
  }

  /**
   * Write `doc` as the file (temp, fsync, backup, rename), then remove the journal it now holds. A failure at any
   * step leaves the file as it was and no temp file behind; the backup is only ever replaced whole, by the file that
   * was in place (a copy cut short by a full disk must not take the place of a good backup).
   */
  private async replaceFile(doc: StateDocument, why: 'write' | 'compact'): Promise<void> {
    // The file must still be the one this store last read or wrote: another writer (or a person restoring a file)
    // may have put something else there, which this write would otherwise bury in the backup.
    if (this.base) await this.checkUnchanged(this.base)
    const text = serializeState(doc)
    const dir = path.dirname(this.file)
    const tmp = tempName(this.file)
    try {
      if (crashDue(`${why}-temp`)) {
        await writeSynced(tmp, text.slice(0, text.length >> 1))
        await crashNow()
      }
      await writeSynced(tmp, text)
      // Keep the previous version. A crash between these two renames leaves the old state in place.
      await this.keepBackup()
      if (crashDue(`${why}-backup`)) await crashNow()
      await fs.rename(tmp, this.file)
    } catch (e) {
      await fs.rm(tmp, {force: true}).catch(() => {})
      throw e
    }
    await syncDir(dir)
    if (crashDue(`${why}-rename`)) await crashNow()
    this.verifiedExisting = true
    this.base = {lineage: doc.lineage, serial: doc.serial}
    this.lastSerial = doc.serial
    // Only now may the journal go: until the rename, it holds changes the old file lacks.
    await this.closeJournal()
    try {
      await fs.unlink(this.journalPath)
      await syncDir(dir)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
    }
    this.foreignJournal = false
    this.broken = false
  }

  /**
   * `<file>.backup` becomes the current file, atomically: a hard link renamed over it (no bytes copied, so a full
   * disk cannot cut it short), or where links are not supported a copy to a temp file renamed over it.
   */
  private async keepBackup(): Promise<void> {
    const backup = `${this.file}.backup`
    const tmp = tempName(backup)
    try {
      try {
        await fs.link(this.file, tmp)
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code
        if (code === 'ENOENT') return // no file yet: nothing to keep
        if (!NO_HARD_LINKS.has(code ?? '')) throw e
        await fs.copyFile(this.file, tmp, constants.COPYFILE_EXCL)
        const h = await fs.open(tmp, 'r')
        try {
          await h.sync()
        } finally {
          await h.close()
        }
      }
      await fs.rename(tmp, backup)
    } catch (e) {
      await fs.rm(tmp, {force: true}).catch(() => {})
      throw e
    }
  }

  /** Refuse to replace a file that is no longer the document this store last read or wrote. */
  private async checkUnchanged(base: {lineage: string; serial: number}): Promise<void> {
    const text = await readIfExists(this.file)
    if (text === null) {
      throw new StateError(`refusing to write state at ${this.location}: the file this run read is gone`, 'state-conflict')
    }
    let found: {lineage?: unknown; serial?: unknown}
    try {
      found = JSON.parse(text) as typeof found
    } catch {
      found = {}
    }
    if (found.lineage !== base.lineage || found.serial !== base.serial) {
      const what = typeof found.lineage === 'string' ? `lineage ${found.lineage}, serial ${String(found.serial)}` : 'a file that is not a state document'
      throw new StateError(
        `refusing to overwrite state at ${this.location}: it was replaced while this run held the lock (it now holds ${what}; ` +
          `this run read lineage ${base.lineage}, serial ${base.serial}). It was left untouched`,
        found.lineage === base.lineage ? 'state-conflict' : 'state-lineage',
      )
    }
  }

  /**
   * A file-system failure (a full disk, a read-only or vanished directory, permissions) as a StateError naming the
   * state file, so that every command reports it as one line with a code, as the pg store's `state-backend`.
   */
  private async io<T>(what: string, body: () => Promise<T>): Promise<T> {
    try {
      return await body()
    } catch (e) {
      if (e instanceof StateError || !(e instanceof Error) || typeof (e as NodeJS.ErrnoException).code !== 'string') throw e
      throw new StateError(`${what} state at ${this.location} failed: ${e.message}`, 'state-io')
    }
  }

  private async closeJournal(): Promise<void> {
    const h = this.journal
    this.journal = null
    await h?.close().catch(() => {})
  }

  /** Never overwrite state we could not read (file or journal), or the state of another lineage. */
  private async checkExisting(doc: StateDocument): Promise<void> {
    const existing = await this.read()
    if (existing && existing.lineage !== doc.lineage) {
      throw new StateError(
        `refusing to overwrite state at ${this.location}: it belongs to lineage ${existing.lineage}, not ${doc.lineage}`,
        'state-lineage',
      )
    }
  }

  async lock(operation: string, timeoutMs: number): Promise<LockInfo> {
    return this.io('locking', () => this.lockNow(operation, timeoutMs))
  }

  private async lockNow(operation: string, timeoutMs: number): Promise<LockInfo> {
    const info = newLockInfo(operation, this.version)
    await fs.mkdir(path.dirname(this.lockPath), {recursive: true})
    const started = Date.now()
    for (;;) {
      if (await this.createLockFile(info)) return info
      const holder = await this.readLock()
      if (holder && isDeadLocalHolder(holder)) {
        // The holder ran on this host and its process is gone (killed): the lock protects nothing. Remove it only if
        // it is still that same lock, then try again.
        await this.removeIf(holder.id)
        continue
      }
      const waited = Date.now() - started
      if (waited >= timeoutMs) {
        throw new LockHeldError(this.location, holder ?? unknownHolder(), waited)
      }
      await new Promise((r) => setTimeout(r, Math.min(LOCK_POLL_MS, timeoutMs - waited)))
    }
  }

  /**
   * Make the lock file with `info` in it, in one step: written and synced under a name of its own, then hard-linked to
   * the lock's name, which fails if a lock is there. Created empty and written after, a run that lost the race in
   * between read an empty file and named no holder. False when another run holds the lock. A file that could not be
   * written (a full disk) is never linked, so it cannot hold every later run out. Where the file system has no hard
   * links (as keepBackup allows for), the lock file is created exclusively and written in place, as before.
   */
  private async createLockFile(info: LockInfo): Promise<boolean> {
    const text = JSON.stringify(info, null, 2) + '\n'
    const tmp = tempName(this.lockPath)
    try {
      await writeSynced(tmp, text)
      await fs.link(tmp, this.lockPath)
      return true
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code
      if (code === 'EEXIST') return false
      if (!NO_HARD_LINKS.has(code ?? '')) throw e
    } finally {
      await fs.rm(tmp, {force: true}).catch(() => {})
    }
    try {
      await writeSynced(this.lockPath, text)
      return true
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false
      throw e
    }
  }

  async unlock(id: string): Promise<void> {
    return this.io('unlocking', () => this.unlockNow(id))
  }

  private async unlockNow(id: string): Promise<void> {
    await this.removeIf(id)
  }

  async forceUnlock(id: string): Promise<LockInfo> {
    const holder = await this.readLock()
    if (!holder) throw new StateError(`state at ${this.location} is not locked`, 'lock-not-found')
    if (holder.id !== id) {
      throw new StateError(`lock ID ${id} does not match the current lock ${holder.id}; nothing was removed`, 'lock-mismatch')
    }
    await fs.rm(this.lockPath, {force: true})
    return holder
  }

  async close(): Promise<void> {
    await this.closeJournal()
  }

  private async readLock(): Promise<LockInfo | null> {
    try {
      return JSON.parse(await fs.readFile(this.lockPath, 'utf8')) as LockInfo
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null
      // Garbage (a lock file appears whole, see createLockFile): report it as held by an unknown holder.
      return unknownHolder()
    }
  }

  private async removeIf(id: string): Promise<void> {
    const holder = await this.readLock()
    if (holder?.id === id) await fs.rm(this.lockPath, {force: true})
  }
}

/** What a failed hard link says on a file system (or between two) that has none. */
const NO_HARD_LINKS: ReadonlySet<string> = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EXDEV', 'EMLINK'])

/** A name beside `file` for a temporary file of this process. */
function tempName(file: string): string {
  return `${file}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`
}

/**
 * Create `file` (never an existing one: O_EXCL) holding `text`, synced. A write that fails part-way (a full disk)
 * leaves a file that may be short or empty: the caller removes it.
 */
async function writeSynced(file: string, text: string): Promise<void> {
  const handle = await fs.open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600)
  try {
    await handle.writeFile(text, 'utf8')
    await handle.sync()
  } finally {
    await handle.close()
  }
}

function isDeadLocalHolder(l: LockInfo): boolean {
  if (l.host !== os.hostname() || !Number.isInteger(l.pid) || l.pid <= 0) return false
  try {
    process.kill(l.pid, 0)
    return false
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH'
  }
}

/** Append one journal line (or the header and the first line) and sync it. */
async function appendLine(handle: FileHandle, text: string): Promise<void> {
  if (crashDue('journal-append')) {
    const bytes = Buffer.from(text)
    await handle.appendFile(bytes.subarray(0, bytes.length >> 1))
    await handle.datasync()
    await crashNow()
  }
  await handle.appendFile(text)
  await handle.datasync()
}

async function syncDir(dir: string): Promise<void> {
  const h = await fs.open(dir, 'r')
  try {
    await h.sync()
  } catch {
    // Some filesystems refuse fsync on directories; the rename is still atomic there.
  } finally {
    await h.close()
  }
}

async function readIfExists(file: string): Promise<string | null> {
  try {
    return await fs.readFile(file, 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw e
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file)
    return true
  } catch {
    return false
  }
}
