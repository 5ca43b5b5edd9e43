import {execFileSync} from 'node:child_process'
import {chmodSync, closeSync, mkdirSync, openSync, rmSync, statSync, truncateSync, writeSync} from 'node:fs'
import path from 'node:path'

/**
 * Real mounts for the state-and-disk tests: a small tmpfs to fill, and a read-only bind mount laid over a directory.
 * They need root (the CI machine runs the tests as root). Without it a full disk fails saying so (it cannot be faked
 * with chmod, and a test that passes without having tried proves nothing); read-only falls back to chmod.
 */
const mounted: string[] = []

function run(cmd: string, args: string[]): void {
  try {
    execFileSync(cmd, args, {stdio: ['ignore', 'pipe', 'pipe']})
  } catch (e) {
    const stderr = (e as {stderr?: Buffer}).stderr?.toString().trim()
    throw new Error(
      `${cmd} ${args.join(' ')} failed: ${stderr || (e as Error).message}. The state-and-disk tests mount a tmpfs and a ` +
        `read-only bind mount, which needs root (CI runs them as root)`,
    )
  }
}

/** Mount a tmpfs of `bytes` at `dir` (created), unmounted by `unmountAll`. */
export function mountTmpfs(dir: string, bytes: number): void {
  mkdirSync(dir, {recursive: true})
  run('mount', ['-t', 'tmpfs', '-o', `size=${bytes},mode=0755`, 'tmpfs', dir])
  mounted.push(dir)
}

/**
 * Lay a read-only bind mount of `dir` over itself: new files cannot be made there, nor files renamed or removed,
 * while files a process already holds open for writing stay writable, as when a directory's permissions are taken
 * away. (A read-only remount of the file system itself is refused while a file is open for writing.) Not root, the
 * directory's write permission is taken away instead, which has the same effect on everyone but root. Returns the
 * error code writes then fail with.
 */
export function makeReadOnly(dir: string): 'EROFS' | 'EACCES' {
  if (process.getuid?.() !== 0) {
    chmodSync(dir, 0o555)
    readOnlyByMode.add(dir)
    return 'EACCES'
  }
  run('mount', ['--bind', '-o', 'ro', dir, dir])
  mounted.push(dir)
  return 'EROFS'
}

/** Directories made read-only with chmod (not root), given their write permission back by `unmount`. */
const readOnlyByMode = new Set<string>()

/** Undo the latest mount at `dir` (or give it back its write permission). */
export function unmount(dir: string): void {
  if (readOnlyByMode.delete(dir)) return chmodSync(dir, 0o755)
  const at = mounted.lastIndexOf(dir)
  if (at < 0) throw new Error(`${dir} is not mounted by this test`)
  mounted.splice(at, 1)
  run('umount', [dir])
}

/** Undo every mount this process made, latest first; for afterEach/afterAll. */
export function unmountAll(): void {
  for (const dir of readOnlyByMode) chmodSync(dir, 0o755)
  readOnlyByMode.clear()
  const failures: string[] = []
  while (mounted.length > 0) {
    const dir = mounted.pop()!
    try {
      execFileSync('umount', [dir], {stdio: 'ignore'})
    } catch {
      try {
        execFileSync('umount', ['-l', dir], {stdio: 'ignore'})
      } catch (e) {
        failures.push(`${dir}: ${(e as Error).message}`)
      }
    }
  }
  if (failures.length > 0) throw new Error(`could not unmount ${failures.join('; ')}`)
}

/**
 * Fill the file system holding `dir` with a file `dir/FILLER`, to the last byte or leaving `leave` bytes (whole
 * pages: tmpfs counts pages) free; returns its path.
 */
export function fill(dir: string, leave = 0): string {
  const file = path.join(dir, 'FILLER')
  const fd = openSync(file, 'w')
  const chunk = Buffer.alloc(4096)
  try {
    for (;;) writeSync(fd, chunk)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e
  } finally {
    closeSync(fd)
  }
  // The last partial page: write single bytes until even those are refused.
  const fd2 = openSync(file, 'a')
  try {
    for (;;) writeSync(fd2, Buffer.alloc(1))
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e
  } finally {
    closeSync(fd2)
  }
  if (leave > 0) truncateSync(file, Math.max(0, statSync(file).size - leave))
  return file
}

/** Free what `fill` took. */
export function unfill(dir: string): void {
  rmSync(path.join(dir, 'FILLER'), {force: true})
}
