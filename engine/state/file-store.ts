import {randomUUID} from 'node:crypto'
import {constants, promises as fs} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type {StateDocument} from '../model/state.js'
import {LockHeldError, StateError, newLockInfo, type LockInfo} from './errors.js'
import {parseState, serializeState} from './state-document.js'
import type {StateStore} from './store.js'

const LOCK_POLL_MS = 200

/**
 * The local state backend: one JSON file, written as temp file → fsync → rename (never truncate-then-write, the
 * cause of Terraform's empty state files), with the previous version kept as `<file>.backup`. The lock is a
 * `<file>.lock` file created with O_EXCL, holding the LockInfo as JSON.
 */
export class FileStateStore implements StateStore {
  readonly location: string
  private readonly lockPath: string
  private verifiedExisting = false

  constructor(
    private readonly file: string,
    private readonly version: string,
    /** Shown in messages instead of the absolute path (relative to the project). */
    displayPath?: string,
  ) {
    this.location = displayPath ?? file
    this.lockPath = `${file}.lock`
  }

  async read(): Promise<StateDocument | null> {
    let text: string
    try {
      text = await fs.readFile(this.file, 'utf8')
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null
      throw e
    }
    const doc = parseState(text, this.location)
    this.verifiedExisting = true
    return doc
  }

  async write(doc: StateDocument): Promise<void> {
    await fs.mkdir(path.dirname(this.file), {recursive: true})
    if (!this.verifiedExisting) await this.checkExisting(doc)
    const text = serializeState(doc)
    const tmp = `${this.file}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`
    const handle = await fs.open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600)
    try {
      await handle.writeFile(text, 'utf8')
      await handle.sync()
    } finally {
      await handle.close()
    }
    // Keep the previous version. A crash between these two renames leaves the old state in place.
    try {
      await fs.copyFile(this.file, `${this.file}.backup`)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
    }
    await fs.rename(tmp, this.file)
    await syncDir(path.dirname(this.file))
    this.verifiedExisting = true
  }

  /** Never overwrite a file we could not read, or the state of another lineage. */
  private async checkExisting(doc: StateDocument): Promise<void> {
    let text: string
    try {
      text = await fs.readFile(this.file, 'utf8')
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return
      throw e
    }
    const existing = parseState(text, this.location)
    if (existing.lineage !== doc.lineage) {
      throw new StateError(
        `refusing to overwrite state at ${this.location}: it belongs to lineage ${existing.lineage}, not ${doc.lineage}`,
        'state-lineage',
      )
    }
  }

  async lock(operation: string, timeoutMs: number): Promise<LockInfo> {
    const info = newLockInfo(operation, this.version)
    await fs.mkdir(path.dirname(this.lockPath), {recursive: true})
    const started = Date.now()
    for (;;) {
      try {
        const h = await fs.open(this.lockPath, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600)
        try {
          await h.writeFile(JSON.stringify(info, null, 2) + '\n')
          await h.sync()
        } finally {
          await h.close()
        }
        return info
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
      }
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

  async unlock(id: string): Promise<void> {
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

  async close(): Promise<void> {}

  private async readLock(): Promise<LockInfo | null> {
    try {
      return JSON.parse(await fs.readFile(this.lockPath, 'utf8')) as LockInfo
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null
      // A lock file being written right now, or garbage: report it as held by an unknown holder.
      return unknownHolder()
    }
  }

  private async removeIf(id: string): Promise<void> {
    const holder = await this.readLock()
    if (holder?.id === id) await fs.rm(this.lockPath, {force: true})
  }
}

function unknownHolder(): LockInfo {
  return {id: 'unknown', operation: 'unknown', who: 'unknown', host: 'unknown', pid: 0, created: 'unknown', version: 'unknown'}
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
