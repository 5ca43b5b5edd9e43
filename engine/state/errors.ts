import {randomUUID} from 'node:crypto'
import os from 'node:os'

/** Errors of the state layer. Each says what failed and where; none is ever the user's spec's fault. */
export class StateError extends Error {
  override name = 'StateError'
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message)
  }
}

/** The state file exists but cannot be trusted: it is refused and left byte-for-byte untouched. */
export class StateCorruptError extends StateError {
  override name = 'StateCorruptError'
  /** `backup` names where the previous version is kept (the file store: `<file>.backup`). */
  constructor(location: string, why: string, backup = `${location}.backup`) {
    super(
      `state at ${location} is unreadable: ${why}. It was left untouched; restore it from ${backup} ` +
        `or fix it by hand`,
      'state-corrupt',
    )
  }
}

export class StateVersionError extends StateError {
  override name = 'StateVersionError'
  constructor(location: string, found: number, supported: number, backup = `${location}.backup`) {
    super(
      `state at ${location} has format version ${found}, written by a newer cardform (this one reads up to ` +
        `${supported}); upgrade cardform, or if no newer cardform wrote it, restore it from ${backup}. The state was left untouched`,
      'state-version',
    )
  }
}

export interface LockInfo {
  id: string
  operation: string
  who: string
  host: string
  pid: number
  created: string
  version: string
}

/** The lock record of this process, for any store. */
export function newLockInfo(operation: string, version: string): LockInfo {
  return {
    id: randomUUID(),
    operation,
    who: `${os.userInfo().username}@${os.hostname()}`,
    host: os.hostname(),
    pid: process.pid,
    created: new Date().toISOString(),
    version,
  }
}

/** The holder named when a lock record cannot be read (garbage, or a lock row without one). */
export function unknownHolder(): LockInfo {
  return {id: 'unknown', operation: 'unknown', who: 'unknown', host: 'unknown', pid: 0, created: 'unknown', version: 'unknown'}
}

export function describeLock(l: LockInfo): string {
  return `lock ${l.id} held by ${l.who} on ${l.host} (pid ${l.pid}) for ${l.operation} since ${l.created}`
}

export class LockHeldError extends StateError {
  override name = 'LockHeldError'
  constructor(
    location: string,
    readonly holder: LockInfo,
    waitedMs: number,
  ) {
    super(
      `state at ${location} is locked: ${describeLock(holder)}` +
        (waitedMs > 0 ? ` (waited ${Math.round(waitedMs / 1000)}s)` : '') +
        `. Wait for it to finish, retry with --lock-timeout, or, if that run is gone, ` +
        `\`cardform force-unlock ${holder.id}\``,
      'state-locked',
    )
  }
}
