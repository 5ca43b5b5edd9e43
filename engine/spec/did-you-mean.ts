/**
 * Suggestions for misspelt keys and values. Damerau-Levenshtein (optimal string alignment) distance, so a swapped
 * pair of letters counts as one edit; case differences cost nothing extra beyond a lower-case comparison bonus.
 */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0
  const m = a.length
  const n = b.length
  if (m === 0) return n
  if (n === 0) return m
  // Three rolling rows are enough for the transposition rule.
  let prev2 = new Array<number>(n + 1).fill(0)
  let prev = Array.from({length: n + 1}, (_, j) => j)
  let cur = new Array<number>(n + 1).fill(0)
  for (let i = 1; i <= m; i++) {
    cur[0] = i
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let best = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, prev2[j - 2]! + 1)
      cur[j] = best
    }
    ;[prev2, prev, cur] = [prev, cur, prev2]
  }
  return prev[n]!
}

/**
 * The closest candidate to `input`, when it is close enough to be a plausible typo: at most a third of the longer
 * word's length in edits (and at least one), compared case-insensitively and ignoring `_`/`-` differences first.
 */
export function suggest(input: string, candidates: Iterable<string>): string | undefined {
  const normal = (s: string) => s.toLowerCase().replace(/[-_]/g, '')
  const wanted = normal(input)
  let best: string | undefined
  let bestDistance = Infinity
  for (const candidate of candidates) {
    if (candidate === input) continue
    const normalDistance = normal(candidate) === wanted ? 0 : editDistance(input.toLowerCase(), candidate.toLowerCase())
    const limit = Math.max(1, Math.floor(Math.max(input.length, candidate.length) / 3))
    if (normalDistance <= limit && normalDistance < bestDistance) {
      best = candidate
      bestDistance = normalDistance
    }
  }
  return best
}

/** ` (did you mean "x"?)` or '' when there is no close candidate. */
export function didYouMean(input: string, candidates: Iterable<string>): string {
  const found = suggest(input, candidates)
  return found === undefined ? '' : ` (did you mean "${found}"?)`
}
