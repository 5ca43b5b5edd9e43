import {execFileSync} from 'node:child_process'
import {chownSync, existsSync, mkdtempSync, readdirSync, rmSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import path from 'node:path'

/**
 * A PostgreSQL server owned by one test, so that the test can stop it (as a database that goes away) without touching
 * the machine's shared server on 5432. initdb and pg_ctl refuse to run as root: as root they run as `postgres`.
 */
export interface PgCluster {
  url: string
  port: number
  start(): void
  /** `pg_ctl stop -m immediate`: every session is cut off at once, as when the server crashes. */
  crash(): void
  destroy(): void
}

function binDir(): string {
  const root = '/usr/lib/postgresql'
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(path.join(root, v, 'bin/initdb'))) : []
  if (versions.length === 0) throw new Error(`no PostgreSQL server binaries under ${root}: the pg state-and-disk test starts a server of its own`)
  return path.join(root, versions.sort((a, b) => Number(b) - Number(a))[0]!, 'bin')
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as {port: number}).port
      server.close(() => resolve(port))
    })
    server.on('error', reject)
  })
}

export async function createPgCluster(): Promise<PgCluster> {
  const bin = binDir()
  const root = mkdtempSync(path.join(tmpdir(), 'cardform-pg-'))
  const data = path.join(root, 'data')
  const asRoot = process.getuid?.() === 0
  if (asRoot) chownSync(root, Number(execFileSync('id', ['-u', 'postgres']).toString().trim()), Number(execFileSync('id', ['-g', 'postgres']).toString().trim()))
  const pg = (tool: string, args: string[]) => {
    const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', path.join(bin, tool), ...args]] : [path.join(bin, tool), args]
    try {
      execFileSync(cmd as string, argv as string[], {stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000})
    } catch (e) {
      throw new Error(`${tool} ${args.join(' ')} failed: ${(e as {stderr?: Buffer}).stderr?.toString().trim() || (e as Error).message}`)
    }
  }
  const port = await freePort()
  pg('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '--no-instructions'])
  const options = `-p ${port} -k ${root} -c listen_addresses=127.0.0.1 -c fsync=off`
  const cluster: PgCluster = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    start: () => pg('pg_ctl', ['-D', data, '-o', options, '-l', path.join(root, 'log'), '-w', 'start']),
    crash: () => pg('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']),
    destroy() {
      try {
        pg('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop'])
      } catch {
        // Not running.
      }
      rmSync(root, {recursive: true, force: true})
    },
  }
  cluster.start()
  return cluster
}
