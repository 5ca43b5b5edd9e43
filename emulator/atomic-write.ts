import {closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeFileSync} from 'node:fs'
import {open, rename, unlink} from 'node:fs/promises'

let counter = 0

/** Write a file atomically: a temp file beside it, fsync, rename over the target (a reader sees old or new). */
export async function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  const tmp = `${file}.${process.pid}.${++counter}.tmp`
  const handle = await open(tmp, 'w', mode)
  try {
    await handle.writeFile(data)
    await handle.sync()
  } catch (error) {
    await handle.close()
    await unlink(tmp).catch(() => {})
    throw error
  }
  await handle.close()
  await rename(tmp, file)
}

/** The same, synchronously (start-up). */
export function writeFileAtomicSync(file: string, data: string, mode = 0o644): void {
  const tmp = `${file}.${process.pid}.${++counter}.tmp`
  const fd = openSync(tmp, 'w', mode)
  try {
    writeFileSync(fd, data)
    fsyncSync(fd)
  } catch (error) {
    closeSync(fd)
    try {
      unlinkSync(tmp)
    } catch {}
    throw error
  }
  closeSync(fd)
  renameSync(tmp, file)
}
