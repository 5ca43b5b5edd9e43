#!/usr/bin/env node
import {readFileSync} from 'node:fs'
import {arch, platform, release} from 'node:os'

// Loading @oclif/core alone takes several times longer than starting node, so a bare `--version` is answered here,
// in oclif's exact words (its Config.userAgent). On WSL oclif says "wsl", not "linux": that case, and every other
// command line, goes through oclif.
if (process.argv.length === 3 && process.argv[2] === '--version' && !/microsoft/i.test(release())) {
  const {name, version} = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
  process.stdout.write(`${name}/${version} ${platform()}-${arch() === 'ia32' ? 'x86' : arch()} node-${process.version}\n`)
} else {
  const {execute, settings} = await import('@oclif/core')
  // The commands are the built JavaScript in dist/. Left to itself, oclif tries to load them from TypeScript source
  // (registering tsx or ts-node) whenever NODE_ENV is "development" or "test", as a CI job or a developer's shell may
  // set it: 50 MB more for the same run, and not the code that was built.
  settings.enableAutoTranspile = false
  await execute({dir: import.meta.url})
}
