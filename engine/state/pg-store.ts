import {createHash} from 'node:crypto'
import pg from 'pg'
import type {StateChanges, StateDocument} from '../model/state.js'
import {LockHeldError, StateCorruptError, StateError, newLockInfo, unknownHolder, type LockInfo} from './errors.js'
import {foldJournal, parseRecord, toRecord, type JournalRecord} from './journal.js'
import {checkState, parseState, serializeState} from './state-document.js'
import type {StateStore} from './store.js'

const LOCK_POLL_MS = 200
/** How many previous versions of a workspace's state `state_history` keeps (the file store keeps one). */
const HISTORY_KEEP = 20
/** A PostgreSQL that does not answer within this is reported, not waited on forever. */
const CONNECT_TIMEOUT_MS = 10_000
/** How long force-unlock waits for a terminated holder's session to let go of the advisory lock. */
const TERMINATE_WAIT_MS = 5_000

/** The same rule as `backend.schema_name` in schemas/config.schema.json: it is spliced into SQL as an identifier. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/

export interface PgStoreOptions {
  /** Connection URL (postgres://user:password@host:port/db), after ${env:} interpolation. Never printed. */
  connection: string
  /** Database schema holding cardform's tables. */
  schema: string
  /** The row (of several projects or environments sharing the database) this store reads and writes. */
  workspace: string
  /** cardform's version, recorded in the lock. */
  version: string
  historyKeep?: number
}

/**
 * The PostgreSQL state backend, for a team sharing state. Four tables in the configured schema:
 * - `states`: one row per workspace holding the document as text, and the serial of the state (the document's, or
 *   its journal's last). Text, not jsonb: jsonb would reorder keys and fold duplicates, so a row could not be
 *   refused as written; parseState is the check, as for the file.
 * - `journal`: the checkpoints of an apply since the document was last written, one row each (journal.ts):
 *   (workspace, serial, record). Writing the whole document at every checkpoint made an apply quadratic.
 * - `state_history`: the documents each write or compaction replaced (the file store's `.backup`), the last
 *   HISTORY_KEEP kept.
 * - `locks`: who holds the workspace's lock, for messages. The lock itself is a session-level advisory lock
 *   (pg_try_advisory_lock, as Terraform's pg backend does) held by a dedicated connection, so it dies with the
 *   holder's session: a killed cardform frees the lock without anyone's help.
 *
 * A write, an append and a compaction are each one transaction that locks the current row (SELECT … FOR UPDATE)
 * and checks it (the lock still held, the lineage, a serial that grows): each commits whole or not at all. A read
 * is one snapshot (REPEATABLE READ) of the row and its journal.
 */
export class PgStateStore implements StateStore {
  readonly location: string
  /** Where a corrupt row's previous versions are, for the message. */
  private readonly backup: string
  private readonly pool: pg.Pool
  private readonly schema: string
  private readonly workspace: string
  /** The advisory lock key of this workspace, a signed 64-bit integer as text. */
  private readonly lockKey: string
  private ready: Promise<void> | undefined
  /** Locks this store holds: their id → the session holding the advisory lock. */
  private readonly held = new Map<string, {client: pg.Client; pid: number}>()
  /** This store has read or written the row, so it knows the lineage an append must match. */
  private lineage: string | undefined
  /** The row had journal rows when last read (an interrupted run's): compact before appending. */
  private foreignJournal = false
  /** The serial of the state as last read, written or appended. */
  private lastSerial = 0

  constructor(private readonly options: PgStoreOptions) {
    if (!SCHEMA_NAME.test(options.schema)) {
      throw new StateError(`backend.schema_name "${options.schema}" is not a valid schema name (${SCHEMA_NAME.source})`, 'state-backend')
    }
    this.schema = `"${options.schema}"`
    this.workspace = options.workspace
    this.location = `pg:${options.schema}/${options.workspace}`
    this.backup = `${options.schema}.state_history (workspace ${options.workspace})`
    this.lockKey = advisoryKey(`cardform:${options.schema}/${options.workspace}`).toString()
    this.pool = new pg.Pool({connectionString: options.connection, max: 4, connectionTimeoutMillis: CONNECT_TIMEOUT_MS})
    // An idle pooled connection that the server ends (restart, pg_terminate_backend) is dropped by the pool; without
    // a listener its 'error' event would crash the process. The next query opens a fresh connection.
    this.pool.on('error', () => {})
  }

  async read(): Promise<StateDocument | null> {
    return this.guard('read', async () => {
      await this.ensureTables()
      const {row, journal} = await this.snapshot()
      if (!row) {
        if (journal.length > 0) throw new StateCorruptError(this.location, 'there are journal rows but no state row they continue', this.backup)
        return null
      }
      const doc = parseState(row.doc, this.location, this.backup)
      const records = journal.map((j) => this.parseJournalRow(j))
      if (foldJournal(doc, records, this.location) > 0) checkState(doc, this.location, this.backup)
      if (doc.serial !== Number(row.serial)) {
        throw new StateCorruptError(this.location, `the row is at serial ${row.serial}, but its document and journal reach serial ${doc.serial}`, this.backup)
      }
      this.lineage = doc.lineage
      this.foreignJournal = journal.length > 0
      this.lastSerial = doc.serial
      return doc
    })
  }

  /** The row and its journal, as of one instant. */
  private async snapshot(): Promise<{row: {doc: string; serial: string} | undefined; journal: Array<{serial: string; record: string}>}> {
    const client = await this.checkOut()
    let broken = false
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
      const r = await client.query<{doc: string; serial: string}>(`SELECT doc, serial FROM ${this.schema}.states WHERE workspace = $1`, [this.workspace])
      const j = await client.query<{serial: string; record: string}>(
        `SELECT serial, record FROM ${this.schema}.journal WHERE workspace = $1 ORDER BY serial`,
        [this.workspace],
      )
      await client.query('COMMIT')
      return {row: r.rows[0], journal: j.rows}
    } catch (e) {
      await client.query('ROLLBACK').catch(() => (broken = true))
      throw e
    } finally {
      release(client, broken)
    }
  }

  private parseJournalRow(j: {serial: string; record: string}): JournalRecord {
    const where = `journal row ${j.serial}`
    let value: unknown
    try {
      value = JSON.parse(j.record)
    } catch (e) {
      throw new StateCorruptError(this.location, `${where} is not valid JSON (${(e as Error).message})`, this.backup)
    }
    const record = parseRecord(value, where, this.location)
    if (record.serial !== Number(j.serial)) throw new StateCorruptError(this.location, `${where} holds serial ${record.serial}`, this.backup)
    return record
  }

  async write(doc: StateDocument): Promise<void> {
    await this.guard('write', async () => {
      await this.ensureTables()
      // Two first writers can both find no row; the loser's insert does nothing and it goes round again, now
      // finding (and checking) the winner's row.
      for (let attempt = 0; attempt < 2; attempt++) {
        if (await this.writeOnce(doc)) {
          this.lineage = doc.lineage
          this.foreignJournal = false
          this.lastSerial = doc.serial
          return
        }
      }
      throw new StateError(`writing state at ${this.location} failed: the row kept changing under it`, 'state-conflict')
    })
  }

  /** One write transaction. False when a concurrent first write got in before ours. */
  private async writeOnce(doc: StateDocument): Promise<boolean> {
    const client = await this.checkOut()
    let broken = false
    try {
      await client.query('BEGIN')
      const current = await this.lockRow<{doc: string; serial: string}>(client, 'doc, serial')
      const text = serializeState(doc)
      if (current) {
        // Never overwrite a row we could not read (parseState throws), nor the state of another lineage.
        const existing = parseState(current.doc, this.location, this.backup)
        this.checkLineage(existing.lineage, doc.lineage)
        // Every write bumps the serial. One that does not grow was computed from an older read: a stale writer
        // that would undo what was written since. The row's serial counts the journal too.
        this.checkSerialGrows(doc.serial, Number(current.serial))
        await this.keepHistory(client, existing, current.doc)
        await client.query(
          `UPDATE ${this.schema}.states SET lineage = $2, serial = $3, doc = $4, updated_at = now() WHERE workspace = $1`,
          [this.workspace, doc.lineage, doc.serial, text],
        )
        // The new document holds everything the journal recorded.
        await client.query(`DELETE FROM ${this.schema}.journal WHERE workspace = $1`, [this.workspace])
      } else {
        const inserted = await client.query(
          `INSERT INTO ${this.schema}.states (workspace, lineage, serial, doc) VALUES ($1, $2, $3, $4) ON CONFLICT (workspace) DO NOTHING`,
          [this.workspace, doc.lineage, doc.serial, text],
        )
        if (inserted.rowCount === 0) {
          await client.query('ROLLBACK')
          return false
        }
      }
      await client.query('COMMIT')
      return true
    } catch (e) {
      await client.query('ROLLBACK').catch(() => (broken = true))
      throw e
    } finally {
      release(client, broken)
    }
  }

  canAppend(): boolean {
    return this.lineage !== undefined && !this.foreignJournal
  }

  /**
   * A checkpoint: one journal row, and the row's serial moved to it, under the same checks as a write (the lock still
   * held, the lineage, a serial that grows). The document is neither read nor written, so the cost does not grow
   * with the state (its TOASTed text is kept as it is by the UPDATE).
   */
  async append(changes: StateChanges): Promise<void> {
    await this.guard('write', async () => {
      if (!this.canAppend()) throw new StateError(`cannot append to the journal of ${this.location} now; write the whole state`, 'state-journal')
      await this.ensureTables()
      await this.transaction(async (client) => {
        const current = await this.lockRow<{lineage: string; serial: string}>(client, 'lineage, serial')
        if (!current) throw new StateError(`writing state at ${this.location} failed: its row is gone`, 'state-conflict')
        this.checkLineage(current.lineage, changes.lineage)
        this.checkSerialGrows(changes.serial, Number(current.serial))
        await client.query(`INSERT INTO ${this.schema}.journal (workspace, serial, record) VALUES ($1, $2, $3)`, [
          this.workspace,
          changes.serial,
          JSON.stringify(toRecord(changes)),
        ])
        await client.query(`UPDATE ${this.schema}.states SET serial = $2, updated_at = now() WHERE workspace = $1`, [this.workspace, changes.serial])
      })
      this.lastSerial = changes.serial
    })
  }

  /**
   * Fold the journal into the document: the document replaced goes to history, the journal rows are deleted, the
   * serial stays. Refused when the row moved past `doc` (another writer), like a write.
   */
  async compact(doc: StateDocument): Promise<void> {
    await this.guard('write', async () => {
      const text = serializeState(doc)
      await this.ensureTables()
      await this.transaction(async (client) => {
        const current = await this.lockRow<{doc: string; serial: string}>(client, 'doc, serial')
        const pending = await client.query(`SELECT 1 FROM ${this.schema}.journal WHERE workspace = $1 LIMIT 1`, [this.workspace])
        if (!current || pending.rowCount === 0) return
        if (Number(current.serial) !== doc.serial) {
          throw new StateError(
            `refusing to compact state at ${this.location} at serial ${doc.serial}: it is at serial ${current.serial}, ` +
              `so another run wrote it since this one read it`,
            'state-serial',
          )
        }
        const existing = parseState(current.doc, this.location, this.backup)
        this.checkLineage(existing.lineage, doc.lineage)
        await this.keepHistory(client, existing, current.doc)
        await client.query(`UPDATE ${this.schema}.states SET doc = $2, updated_at = now() WHERE workspace = $1`, [this.workspace, text])
        await client.query(`DELETE FROM ${this.schema}.journal WHERE workspace = $1`, [this.workspace])
      })
      this.foreignJournal = false
    })
  }

  private checkLineage(existing: string, writing: string): void {
    if (existing !== writing) {
      throw new StateError(`refusing to overwrite state at ${this.location}: it belongs to lineage ${existing}, not ${writing}`, 'state-lineage')
    }
  }

  private checkSerialGrows(serial: number, stored: number): void {
    if (serial <= stored) {
      throw new StateError(
        `refusing to write serial ${serial} to state at ${this.location}: it is already at serial ${stored}, ` +
          `so this write was based on an older state (a stale writer)`,
        'state-serial',
      )
    }
  }

  /** Copy the document being replaced to history, keeping the last HISTORY_KEEP. */
  private async keepHistory(client: pg.PoolClient, existing: StateDocument, text: string): Promise<void> {
    await client.query(`INSERT INTO ${this.schema}.state_history (workspace, lineage, serial, doc) VALUES ($1, $2, $3, $4)`, [
      this.workspace,
      existing.lineage,
      existing.serial,
      text,
    ])
    await client.query(
      `DELETE FROM ${this.schema}.state_history WHERE workspace = $1 AND id NOT IN ` +
        `(SELECT id FROM ${this.schema}.state_history WHERE workspace = $1 ORDER BY id DESC LIMIT $2)`,
      [this.workspace, this.options.historyKeep ?? HISTORY_KEEP],
    )
  }

  /**
   * A pooled connection for a few queries. The pool listens for errors only on idle connections: one the server drops
   * while checked out, between two queries (a server stopped mid-apply), would emit 'error' with no listener and end
   * the process before any summary. With this listener the failure surfaces at the next query instead.
   */
  private async checkOut(): Promise<pg.PoolClient> {
    const client = await this.pool.connect()
    client.on('error', ignoreError)
    return client
  }

  /** One transaction on a pooled connection: committed when `body` returns, rolled back when it throws. */
  /**
   * Inside a transaction: check that this store still holds its lock, then lock the workspace's row (SELECT … FOR
   * UPDATE) and return the columns asked for; undefined when there is no row yet.
   */
  private async lockRow<R extends pg.QueryResultRow>(client: pg.PoolClient, columns: string): Promise<R | undefined> {
    await this.checkLockStillHeld(client)
    const r = await client.query<R>(`SELECT ${columns} FROM ${this.schema}.states WHERE workspace = $1 FOR UPDATE`, [this.workspace])
    return r.rows[0]
  }

  private async transaction(body: (client: pg.PoolClient) => Promise<void>): Promise<void> {
    const client = await this.checkOut()
    let broken = false
    try {
      await client.query('BEGIN')
      await body(client)
      await client.query('COMMIT')
    } catch (e) {
      await client.query('ROLLBACK').catch(() => (broken = true))
      throw e
    } finally {
      release(client, broken)
    }
  }

  /**
   * A store holding the lock writes only while its lock session still holds the advisory lock. That session can
   * end under it (network loss, or `force-unlock` terminating it), and another run may then hold the lock.
   */
  private async checkLockStillHeld(client: pg.PoolClient): Promise<void> {
    for (const [id, {pid}] of this.held) {
      const r = await client.query(`SELECT 1 FROM pg_locks WHERE ${ADVISORY_LOCK_MATCH} AND pid = $3`, [...this.keyParts(), pid])
      if (r.rowCount === 0) {
        throw new StateError(
          `the lock ${id} on state at ${this.location} was lost (its database session ended, e.g. by force-unlock); ` +
            `refusing to write, since another run may hold the state now`,
          'lock-lost',
        )
      }
    }
  }

  async lock(operation: string, timeoutMs: number): Promise<LockInfo> {
    return this.guard('lock', async () => {
      await this.ensureTables()
      const info = newLockInfo(operation, this.options.version)
      // The lock lives as long as this session, so it gets its own connection, not a pooled one.
      const client = new pg.Client({connectionString: this.options.connection, connectionTimeoutMillis: CONNECT_TIMEOUT_MS})
      // When the server ends the session (force-unlock), the error surfaces at the next write (checkLockStillHeld).
      client.on('error', () => {})
      await client.connect()
      try {
        const started = Date.now()
        for (;;) {
          const r = await client.query<{ok: boolean; pid: number}>(
            'SELECT pg_try_advisory_lock($1::bigint) AS ok, pg_backend_pid() AS pid',
            [this.lockKey],
          )
          const row = r.rows[0]!
          if (row.ok) {
            // We hold the advisory lock, so a row still here was left by a holder whose session died (a killed
            // run): it protects nothing and is overwritten.
            await client.query(
              `INSERT INTO ${this.schema}.locks (workspace, info, backend_pid) VALUES ($1, $2, $3) ` +
                `ON CONFLICT (workspace) DO UPDATE SET info = excluded.info, backend_pid = excluded.backend_pid, acquired_at = now()`,
              [this.workspace, JSON.stringify(info), row.pid],
            )
            this.held.set(info.id, {client, pid: row.pid})
            return info
          }
          const holder = await this.readLock(client)
          const waited = Date.now() - started
          if (waited >= timeoutMs) throw new LockHeldError(this.location, holder?.info ?? unknownHolder(), waited)
          await new Promise((resolve) => setTimeout(resolve, Math.min(LOCK_POLL_MS, timeoutMs - waited)))
        }
      } catch (e) {
        await client.end().catch(() => {})
        throw e
      }
    })
  }

  async unlock(id: string): Promise<void> {
    const held = this.held.get(id)
    if (!held) return
    this.held.delete(id)
    try {
      await held.client.query(`DELETE FROM ${this.schema}.locks WHERE workspace = $1 AND info->>'id' = $2`, [this.workspace, id])
    } catch {
      // The session is already gone (force-unlocked, connection lost): its advisory lock went with it, and the row
      // it leaves is overwritten by the next holder.
    } finally {
      // Ending the session releases the advisory lock.
      await held.client.end().catch(() => {})
    }
  }

  /**
   * The holder's advisory lock belongs to its session, so deleting the row alone would free nothing: the next lock
   * would still find the advisory lock taken. When the recorded session still holds the lock, it is terminated
   * (pg_terminate_backend, which needs the same role, pg_signal_backend or superuser); the holder then refuses its
   * next write (lock-lost). The pid is checked against pg_locks first, so a recycled pid of another session is
   * never terminated.
   */
  async forceUnlock(id: string): Promise<LockInfo> {
    return this.guard('force-unlock', async () => {
      await this.ensureTables()
      const r = await this.pool.query<{info: LockInfo; backend_pid: number}>(
        `SELECT info, backend_pid FROM ${this.schema}.locks WHERE workspace = $1`,
        [this.workspace],
      )
      const row = r.rows[0]
      if (!row) throw new StateError(`state at ${this.location} is not locked`, 'lock-not-found')
      if (row.info.id !== id) {
        throw new StateError(`lock ID ${id} does not match the current lock ${row.info.id}; nothing was removed`, 'lock-mismatch')
      }
      if (await this.sessionHoldsLock(row.backend_pid)) {
        let terminated = false
        try {
          const t = await this.pool.query<{ok: boolean}>('SELECT pg_terminate_backend($1) AS ok', [row.backend_pid])
          terminated = t.rows[0]?.ok === true
        } catch (e) {
          throw new StateError(
            `could not end the session (backend pid ${row.backend_pid}) holding the lock on state at ${this.location}: ` +
              `${(e as Error).message}; nothing was removed`,
            'lock-terminate',
          )
        }
        const deadline = Date.now() + TERMINATE_WAIT_MS
        while (terminated && (await this.sessionHoldsLock(row.backend_pid))) {
          if (Date.now() > deadline) {
            terminated = false
            break
          }
          await new Promise((resolve) => setTimeout(resolve, 50))
        }
        if (!terminated) {
          throw new StateError(
            `the session (backend pid ${row.backend_pid}) holding the lock on state at ${this.location} did not end; ` +
              `nothing was removed`,
            'lock-terminate',
          )
        }
      }
      await this.pool.query(`DELETE FROM ${this.schema}.locks WHERE workspace = $1 AND info->>'id' = $2`, [this.workspace, id])
      return row.info
    })
  }

  async close(): Promise<void> {
    for (const id of [...this.held.keys()]) await this.unlock(id)
    await this.pool.end()
  }

  /** Create the schema and tables on first use. */
  private ensureTables(): Promise<void> {
    this.ready ??= this.createTables().catch((e: unknown) => {
      this.ready = undefined
      throw e
    })
    return this.ready
  }

  private async createTables(): Promise<void> {
    const s = this.schema
    // Look first: CREATE SCHEMA IF NOT EXISTS needs the CREATE privilege on the database even when the schema
    // exists, which a team's state role may not have.
    const present = await this.pool.query<{n: string}>(
      `SELECT count(to_regclass(t)) AS n FROM unnest(ARRAY['${s}.states', '${s}.journal', '${s}.state_history', '${s}.locks']) AS t`,
    )
    if (present.rows[0]?.n === '4') return
    const client = await this.checkOut()
    let broken = false
    try {
      await client.query('BEGIN')
      // Concurrent CREATE … IF NOT EXISTS of the same object can still fail on a unique index; one creator at a time.
      await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [advisoryKey(`cardform-ddl:${this.options.schema}`).toString()])
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`)
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${s}.states (
          workspace text PRIMARY KEY,
          lineage text NOT NULL,
          serial bigint NOT NULL,
          doc text NOT NULL,
          updated_at timestamptz NOT NULL DEFAULT now()
        )`,
      )
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${s}.journal (
          workspace text NOT NULL,
          serial bigint NOT NULL,
          record text NOT NULL,
          written_at timestamptz NOT NULL DEFAULT now(),
          PRIMARY KEY (workspace, serial)
        )`,
      )
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${s}.state_history (
          id bigserial PRIMARY KEY,
          workspace text NOT NULL,
          lineage text NOT NULL,
          serial bigint NOT NULL,
          doc text NOT NULL,
          written_at timestamptz NOT NULL DEFAULT now()
        )`,
      )
      await client.query(`CREATE INDEX IF NOT EXISTS state_history_workspace ON ${s}.state_history (workspace, id)`)
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${s}.locks (
          workspace text PRIMARY KEY,
          info jsonb NOT NULL,
          backend_pid integer NOT NULL,
          acquired_at timestamptz NOT NULL DEFAULT now()
        )`,
      )
      await client.query('COMMIT')
    } catch (e) {
      await client.query('ROLLBACK').catch(() => (broken = true))
      throw e
    } finally {
      release(client, broken)
    }
  }

  private async readLock(client: pg.Client): Promise<{info: LockInfo; backend_pid: number} | null> {
    const r = await client.query<{info: LockInfo; backend_pid: number}>(
      `SELECT info, backend_pid FROM ${this.schema}.locks WHERE workspace = $1`,
      [this.workspace],
    )
    return r.rows[0] ?? null
  }

  private async sessionHoldsLock(pid: number): Promise<boolean> {
    const r = await this.pool.query(`SELECT 1 FROM pg_locks WHERE ${ADVISORY_LOCK_MATCH} AND pid = $3`, [...this.keyParts(), pid])
    return (r.rowCount ?? 0) > 0
  }

  /** pg_locks shows a bigint advisory key as its high half in classid and its low half in objid. */
  private keyParts(): [string, string] {
    const key = BigInt(this.lockKey)
    return [BigInt.asUintN(32, key >> 32n).toString(), BigInt.asUintN(32, key).toString()]
  }

  /** Database failures (cannot connect, permission denied) become StateErrors saying where; ours pass through. */
  private async guard<T>(what: string, body: () => Promise<T>): Promise<T> {
    try {
      return await body()
    } catch (e) {
      if (e instanceof StateError) throw e
      const err = e as Error & {code?: string}
      const detail = err.message || err.code || String(e)
      throw new StateError(`${what} of state at ${this.location} failed: PostgreSQL: ${detail}`, 'state-backend')
    }
  }
}

/** Granted session advisory locks on a bigint key ($1 high half, $2 low half) in this database. */
const ADVISORY_LOCK_MATCH =
  `locktype = 'advisory' AND granted AND objsubid = 1 AND classid = $1::oid AND objid = $2::oid ` +
  `AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`

/** A signed 64-bit advisory lock key from a name: the first 8 bytes of its SHA-256. */
function advisoryKey(name: string): bigint {
  return createHash('sha256').update(name).digest().readBigInt64BE(0)
}

function ignoreError(): void {}

function release(client: pg.PoolClient, broken: boolean): void {
  client.removeListener('error', ignoreError)
  client.release(broken)
}
