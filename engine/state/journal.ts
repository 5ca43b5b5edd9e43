import type {StateChanges, StateDocument} from '../model/state.js'
import {StateCorruptError, StateVersionError} from './errors.js'

/**
 * The state journal: checkpoints of an apply recorded as the entries they changed, so that a checkpoint costs the
 * size of its change, not of the state. The file store appends them as JSON lines to `<state>.journal`; the pg store
 * inserts them as rows. Reading the state is the document plus its journal, in order; compaction writes the folded
 * document and drops the journal.
 *
 * A journal file is a header line and one record line per checkpoint:
 *
 *   {"format":"cardform-state-journal","version":1,"lineage":"…","base_serial":12}
 *   {"serial":13,"resources":{"MemberCard.gold":{…}},"generations":{"MemberCard.gold":1}}
 *   {"serial":14,"resources":{"MemberCard.old":null},"generations":{}}
 *   {"serial":15,"resources":{},"generations":{},"media":{"3a7bd3…":{"media_url":"https://…","file":"cards/logo.png",…}}}
 *
 * Each line is written with one append and synced before the checkpoint counts as done. A crash in the middle of an
 * append leaves a last line without its newline (torn): it was never acknowledged, so it is ignored. A complete line
 * that does not parse is corruption: refused, never repaired.
 */
export const JOURNAL_FORMAT = 'cardform-state-journal'
export const JOURNAL_VERSION = 1

export interface JournalHeader {
  format: typeof JOURNAL_FORMAT
  version: number
  lineage: string
  /** The serial of the document the records continue: the first record's serial is above it. */
  base_serial: number
}

/** A checkpoint as recorded: the lineage is the header's (file) or the row's (pg). */
export type JournalRecord = Omit<StateChanges, 'lineage'>

export function formatJournalHeader(lineage: string, baseSerial: number): string {
  const header: JournalHeader = {format: JOURNAL_FORMAT, version: JOURNAL_VERSION, lineage, base_serial: baseSerial}
  return JSON.stringify(header) + '\n'
}

export function formatJournalRecord(changes: StateChanges): string {
  return JSON.stringify(toRecord(changes)) + '\n'
}

export function toRecord(changes: StateChanges): JournalRecord {
  return {
    serial: changes.serial,
    resources: changes.resources,
    generations: changes.generations,
    ...(changes.media && Object.keys(changes.media).length > 0 ? {media: changes.media} : {}),
  }
}

export interface ParsedJournal {
  /** Null when not even the header line is complete (the journal's first append was cut short). */
  header: JournalHeader | null
  records: JournalRecord[]
  /** Bytes after the last newline: an append cut short by a crash, ignored. */
  tornBytes: number
}

/**
 * Split a journal file into header and records. Throws StateCorruptError / StateVersionError naming the line;
 * `location` is the state's, `journal` names the file in messages.
 */
export function parseJournalFile(text: string, location: string, journal: string): ParsedJournal {
  const end = text.lastIndexOf('\n')
  const complete = end < 0 ? [] : text.slice(0, end).split('\n')
  const tornBytes = Buffer.byteLength(text.slice(end + 1))
  if (complete.length === 0) return {header: null, records: [], tornBytes}
  const header = parseHeader(parseLine(complete[0]!, 1, location, journal), location, journal)
  const records = complete.slice(1).map((line, i) => parseRecord(parseLine(line, i + 2, location, journal), `${journal} line ${i + 2}`, location))
  return {header, records, tornBytes}
}

function parseLine(line: string, n: number, location: string, journal: string): unknown {
  try {
    return JSON.parse(line)
  } catch (e) {
    throw new StateCorruptError(location, `${journal} line ${n} is not valid JSON (${(e as Error).message})`)
  }
}

function parseHeader(v: unknown, location: string, journal: string): JournalHeader {
  const h = v as Partial<JournalHeader> | null
  if (!isObject(h) || h.format !== JOURNAL_FORMAT) throw new StateCorruptError(location, `${journal} line 1 is not a ${JOURNAL_FORMAT} header`)
  if (typeof h.version === 'number' && h.version > JOURNAL_VERSION) throw new StateVersionError(journal, h.version, JOURNAL_VERSION)
  if (h.version !== JOURNAL_VERSION || typeof h.lineage !== 'string' || h.lineage === '' || !isSerial(h.base_serial)) {
    throw new StateCorruptError(location, `${journal} line 1 is not a valid journal header (version, lineage, base_serial)`)
  }
  return h as JournalHeader
}

/**
 * A record's shape (`where` names it in messages); the entries themselves are checked with the whole document against
 * the state schema.
 */
export function parseRecord(v: unknown, where: string, location: string): JournalRecord {
  const r = v as Partial<JournalRecord> | null
  const ok =
    isObject(r) &&
    isSerial(r.serial) &&
    isObject(r.resources) &&
    Object.values(r.resources).every((e) => e === null || isObject(e)) &&
    isObject(r.generations) &&
    Object.values(r.generations).every((g) => g === null || isSerial(g)) &&
    (r.media === undefined || (isObject(r.media) && Object.values(r.media).every(isObject)))
  if (!ok) throw new StateCorruptError(location, `${where} is not a valid journal record (serial, resources, generations, media)`)
  return r as JournalRecord
}

/**
 * Apply `records` to `doc` in place, in order. Records at or below the document's serial are already in it (a
 * compaction that stopped before removing the journal) and are skipped; serials must grow from record to record.
 * Returns how many records were applied. The caller checks the result against the state schema.
 */
export function foldJournal(doc: StateDocument, records: readonly JournalRecord[], location: string): number {
  let applied = 0
  let previous = -1
  for (const r of records) {
    if (r.serial <= previous) throw new StateCorruptError(location, `journal serials do not grow (${r.serial} after ${previous})`)
    previous = r.serial
    if (r.serial <= doc.serial) continue
    for (const [address, entry] of Object.entries(r.resources)) {
      if (entry === null) delete doc.resources[address]
      else defineEntry(doc.resources, address, entry)
    }
    for (const [address, g] of Object.entries(r.generations)) {
      if (g === null) delete doc.generations[address]
      else defineEntry(doc.generations, address, g)
    }
    if (r.media) doc.media = {...doc.media, ...r.media}
    doc.serial = r.serial
    applied++
  }
  return applied
}

/**
 * `target[key] = value`, except that a key such as `__proto__` (JSON.parse makes it an own key of the record) stays
 * an own key here too, for the state schema to refuse, instead of replacing the prototype of `target`.
 */
function defineEntry<T>(target: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(target, key, {value, writable: true, enumerable: true, configurable: true})
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function isSerial(v: unknown): v is number {
  return Number.isInteger(v) && (v as number) >= 0
}
