import {randomBytes} from 'node:crypto'
import pg from 'pg'

/**
 * The machine's PostgreSQL, which the pg state-backend tests need (trust auth on loopback). CI's `.ci/run` starts
 * it when it is not running. CARDFORM_TEST_PG_URL points the tests at another server.
 */
export const PG_URL = process.env.CARDFORM_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

let reachable: Promise<void> | undefined

/**
 * Fail (never skip) with a message saying what to do when the server is not there. Called before each test, so
 * every pg test is reported failed, not skipped; the server is asked once per file.
 */
export function requirePostgres(): Promise<void> {
  reachable ??= checkPostgres()
  return reachable
}

async function checkPostgres(): Promise<void> {
  const client = new pg.Client({connectionString: PG_URL, connectionTimeoutMillis: 5000})
  try {
    await client.connect()
    await client.query('SELECT 1')
  } catch (e) {
    throw new Error(
      `PostgreSQL is not reachable at ${new URL(PG_URL).host} (${(e as Error).message}); the pg state-backend tests need it. ` +
        `Start it (bash .ci/run does: pg_ctlcluster <version> main start) or set CARDFORM_TEST_PG_URL`,
    )
  } finally {
    await client.end().catch(() => {})
  }
}

/** A schema name no other test uses. */
export function randomSchema(): string {
  return `cardform_test_${randomBytes(6).toString('hex')}`
}

/** Run one statement on a connection of its own (the tests' "someone else at the database"). */
export async function sql<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({connectionString: PG_URL})
  await client.connect()
  try {
    return (await client.query<R>(text, values)).rows
  } finally {
    await client.end()
  }
}

export async function dropSchema(schema: string): Promise<void> {
  // With no server there is nothing to drop; the test already failed saying why.
  if (!(await requirePostgres().then(() => true, () => false))) return
  await sql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
}

/**
 * End a database session, as a killed cardform or a lost connection does, and wait until the server has ended it:
 * pg_terminate_backend only signals the backend, which on a loaded machine may still answer a query or two.
 */
export async function terminateSession(pid: number): Promise<void> {
  await sql('SELECT pg_terminate_backend($1)', [pid])
  const deadline = Date.now() + 10_000
  while ((await sql('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid])).length > 0) {
    if (Date.now() > deadline) throw new Error(`session ${pid} did not end within 10 s`)
    await new Promise((r) => setTimeout(r, 20))
  }
}
