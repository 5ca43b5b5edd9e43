import {mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {packageRoot} from '../../engine/paths.js'

/**
 * Experiment 6 of issue 11, hostile input: projects that anyone with push rights could commit, each of which
 * `cardform validate` must refuse with a clear diagnostic (code and file:line:column) in bounded memory. Shared by
 * test/reliability/hostile-input.test.ts (the fast ones, every `npm test`) and bench/soak.ts (all of them under
 * /usr/bin/time -v).
 */
export interface HostileCase {
  name: string
  /** What it tries, in a few words (the README's table). */
  tries: string
  /** Writes the project's files (cardform.yaml included) into `dir`. */
  build(dir: string): void
  /** Diagnostics that must be among those reported, as `file:line:column code`. */
  expected: string[]
  /** Run in `npm test` too; false for the slow ones (seconds of CPU), which only the soak runs. */
  fast: boolean
  /**
   * Load the project on this many worker threads (bench/load-workers.ts) instead of running `cardform validate`,
   * which uses workers only when the machine has two idle CPUs: the soak's 2-CPU machine never has.
   */
  loaderWorkers?: number
}

export const goldCard = readFileSync(path.join(packageRoot, 'test/fixtures/specs/valid/cards/gold.yaml'), 'utf8')

function write(dir: string, files: Record<string, string | Buffer>, config = 'cards: cards\n'): void {
  mkdirSync(path.join(dir, 'cards'), {recursive: true})
  writeFileSync(path.join(dir, 'cardform.yaml'), config)
  for (const [file, content] of Object.entries(files)) writeFileSync(path.join(dir, file), content)
}

/** Pseudo-random bytes from a fixed seed, so the garbage is the same on every run. */
function garbage(bytes: number): Buffer {
  const out = Buffer.allocUnsafe(bytes)
  let s = 1
  for (let i = 0; i < bytes; i++) out[i] = (s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 24
  return out
}

const titleAt = '11:10'

export const HOSTILE_CASES: readonly HostileCase[] = [
  {
    name: 'alias-bomb',
    tries: 'billion laughs: 9 levels of 10 aliases each',
    build: (dir) => write(dir, {'cards/bomb.yaml': readFileSync(path.join(packageRoot, 'test/fixtures/specs/hostile/cards/bomb.yaml'))}),
    expected: ['cards/bomb.yaml:1:1 alias-limit'],
    fast: true,
  },
  {
    name: 'file-50mb',
    tries: 'a 50 MB card file',
    build: (dir) => write(dir, {'cards/big.yaml': Buffer.alloc(50 * 1024 * 1024, 'a: b\n')}),
    expected: ['cards/big.yaml:1:1 file-too-large'],
    fast: true,
  },
  {
    name: 'nesting-10k-flow',
    tries: '10,000 nested flow sequences',
    build: (dir) => write(dir, {'cards/deep.yaml': '['.repeat(10_000) + ']'.repeat(10_000) + '\n'}),
    expected: ['cards/deep.yaml:1:256 nesting-limit'],
    fast: true,
  },
  {
    name: 'nesting-10k-block',
    tries: '10,000 nested block sequences (`- - - …`)',
    build: (dir) => write(dir, {'cards/deep.yaml': '- '.repeat(10_000) + 'x\n'}),
    expected: ['cards/deep.yaml:1:20001 nesting-limit'],
    fast: true,
  },
  {
    name: 'documents-100k',
    tries: '100,000 YAML documents in one file',
    build: (dir) => write(dir, {'cards/many.yaml': '---\na: 1\n'.repeat(100_000)}),
    expected: ['cards/many.yaml:1:1 diagnostic-limit', 'cards/many.yaml:2:1 schema-required', 'cards/many.yaml:2001:1 document-limit'],
    fast: true,
  },
  {
    name: 'tokens-dense',
    tries: 'a megabyte of `{,,,…}`: a syntax error per byte',
    build: (dir) => write(dir, {'cards/dense.yaml': '{' + ','.repeat(1024 * 1024 - 3) + '}\n'}),
    expected: ['cards/dense.yaml:1:150000 token-limit'],
    fast: true,
  },
  {
    name: 'errors-50k',
    tries: '50,000 duplicate keys (one syntax error each)',
    build: (dir) => write(dir, {'cards/dupes.yaml': ':\n'.repeat(49_000)}),
    expected: ['cards/dupes.yaml:1:1 diagnostic-limit', 'cards/dupes.yaml:1:2 yaml-syntax'],
    fast: true,
  },
  {
    name: 'invalid-utf8',
    tries: 'a card title with bytes that are not UTF-8',
    build: (dir) => {
      const card = Buffer.from(goldCard)
      const at = card.indexOf('金卡会员')
      write(dir, {'cards/gold.yaml': Buffer.concat([card.subarray(0, at), Buffer.from([0xe9, 0x87, 0xff]), card.subarray(at)])})
    },
    expected: [`cards/gold.yaml:${titleAt} not-utf8`],
    fast: true,
  },
  {
    name: 'binary-garbage',
    tries: 'a megabyte of random bytes',
    build: (dir) => write(dir, {'cards/noise.yaml': garbage(1024 * 1024)}),
    expected: ['cards/noise.yaml:1:2 not-utf8'],
    fast: true,
  },
  {
    name: 'huge-numbers',
    tries: '1e400 (Infinity) and 2^64 where numbers and strings are expected',
    build: (dir) =>
      write(dir, {
        'cards/gold.yaml': goldCard.replace('total_quantity: 100000', 'total_quantity: 1e400').replace('brand_id: "1234567890"', 'brand_id: 18446744073709551616'),
      }),
    expected: ['cards/gold.yaml:9:15 number-range', 'cards/gold.yaml:16:19 number-range'],
    fast: true,
  },
  {
    name: 'proto-keys',
    tries: '`__proto__` and `constructor` keys at the root, in metadata, spec and a flow map',
    build: (dir) =>
      write(dir, {
        'cards/gold.yaml':
          '__proto__: {polluted: 1}\n' +
          goldCard
            .replace('metadata:\n', 'metadata:\n  constructor: {prototype: {polluted: 1}}\n')
            .replace('spec:\n', 'spec:\n  __proto__:\n    polluted: 1\n')
            .replace('  date_information:\n    type: PERMANENT\n', '  date_information: {type: PERMANENT, __proto__: {polluted: 1}}\n'),
      }),
    expected: ['cards/gold.yaml:1:1 schema-unknown-key', 'cards/gold.yaml:5:3 schema-unknown-key', 'cards/gold.yaml:8:3 schema-unknown-key', 'cards/gold.yaml:21:39 schema-unknown-key'],
    fast: true,
  },
  {
    name: 'env-prototype',
    tries: '`${env:constructor}`, `${env:__proto__}`: names on the prototype chain',
    build: (dir) => write(dir, {'cards/gold.yaml': goldCard.replace('title: 金卡会员', 'title: "${env:constructor}${env:__proto__}"')}),
    expected: [`cards/gold.yaml:${titleAt} env-missing`, `cards/gold.yaml:${titleAt} env-missing`],
    fast: true,
  },
  {
    name: 'cards-outside',
    tries: '`cards: ../../etc`',
    build: (dir) => write(dir, {}, 'cards: ../../etc\n'),
    expected: ['cardform.yaml:1:1 config-invalid'],
    fast: true,
  },
  {
    name: 'symlink-loops',
    tries: 'card files linked to each other in a cycle, a dangling link, a link to /dev/zero, a directory linked to its parent',
    build: (dir) => {
      write(dir, {'cards/gold.yaml': goldCard})
      symlinkSync('b.yaml', path.join(dir, 'cards/a.yaml'))
      symlinkSync('a.yaml', path.join(dir, 'cards/b.yaml'))
      symlinkSync('nowhere.yaml', path.join(dir, 'cards/gone.yaml'))
      symlinkSync('/dev/zero', path.join(dir, 'cards/zero.yaml'))
      symlinkSync('..', path.join(dir, 'cards/up'))
    },
    expected: [
      'cards/a.yaml:1:1 file-unreadable',
      'cards/b.yaml:1:1 file-unreadable',
      'cards/gone.yaml:1:1 file-unreadable',
      'cards/up:1:1 symlink-directory',
      'cards/zero.yaml:1:1 file-not-regular',
    ],
    fast: true,
  },
  {
    name: 'config-loop',
    tries: 'cardform.yaml a link to itself',
    build: (dir) => {
      mkdirSync(path.join(dir, 'cards'))
      symlinkSync('cardform.yaml', path.join(dir, 'cardform.yaml'))
    },
    expected: ['cardform.yaml:1:1 file-unreadable'],
    fast: true,
  },
  {
    name: 'cards-100k-project',
    tries: '100,000 valid cards in 200 files of 500 (each file within the per-file limits)',
    build: (dir) => writeManyCards(dir, 200),
    expected: [],
    fast: false,
  },
  {
    name: 'cards-100k-workers',
    tries: '100,000 valid cards in 400 files of 250, checked on two loader worker threads',
    build: (dir) => writeManyCards(dir, 400, 250),
    expected: [],
    fast: false,
    loaderWorkers: 2,
  },
]

/** A project of `files` card files of `perFile` valid cards each (every file within the per-file limits). */
export function writeManyCards(dir: string, files: number, perFile = 500): void {
  write(dir, {})
  for (let f = 0; f < files; f++) {
    const docs = Array.from({length: perFile}, (_, d) => goldCard.replace('name: gold', `name: c${f}-${d}`))
    writeFileSync(path.join(dir, `cards/f${f}.yaml`), docs.join('---\n'))
  }
}

/** A fresh temporary directory holding the case's project. */
export function buildCase(hostile: HostileCase): string {
  const dir = mkdtempSync(path.join(tmpdir(), `cardform-hostile-${hostile.name}-`))
  hostile.build(dir)
  return dir
}
