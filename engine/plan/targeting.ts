import {compareAddresses, type Address} from '../model/address.js'
import type {Diagnostic} from '../model/diagnostic.js'
import type {StateDocument} from '../model/state.js'
import {editDistance} from '../spec/did-you-mean.js'
import type {DesiredCard} from './compute-plan.js'

/**
 * Resource targeting (`--target`, `--exclude`), as Terraform's `-target` and OpenTofu's `-exclude`: the plan considers
 * only the selected addresses, so only their live cards are read. For exceptional situations (one card among
 * thousands needs fixing now), not routine use: every targeted plan says so.
 *
 * A pattern is `Kind.glob`: the kind and the name are matched separately (a kind never contains a dot, a name may), each
 * with `*` (any run of characters, possibly empty) and `?` (exactly one character). Everything else is literal.
 */
export interface AddressPattern {
  pattern: string
  test(address: Address): boolean
}

/** Why `pattern` is not a valid address pattern, or undefined when it is. */
export function patternProblem(pattern: string): string | undefined {
  const dot = pattern.indexOf('.')
  if (dot < 0) return `"${pattern}" is not a card address pattern: write Kind.name, with * and ? as wildcards (e.g. MemberCard.*, *.coffee-member)`
  if (dot === 0) return `"${pattern}" has no kind before the dot: write Kind.name (the kind may be *)`
  if (dot === pattern.length - 1) return `"${pattern}" has no name after the dot: write Kind.name (the name may be *)`
  return undefined
}

/** Compile a `Kind.glob` pattern; throws with patternProblem's message when it is not one. */
export function compilePattern(pattern: string): AddressPattern {
  const problem = patternProblem(pattern)
  if (problem) throw new Error(problem)
  const dot = pattern.indexOf('.')
  const kind = globRegExp(pattern.slice(0, dot))
  const name = globRegExp(pattern.slice(dot + 1))
  return {
    pattern,
    test(address) {
      const at = address.indexOf('.')
      return at > 0 && kind.test(address.slice(0, at)) && name.test(address.slice(at + 1))
    },
  }
}

function globRegExp(glob: string): RegExp {
  let source = ''
  for (const ch of glob) {
    source += ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')
  }
  return new RegExp(`^${source}$`, 'su')
}

/** True when the address is selected: it matches some target (or there are none) and no exclude. */
export function isSelected(address: Address, targets: readonly AddressPattern[], excludes: readonly AddressPattern[]): boolean {
  return (targets.length === 0 || targets.some((t) => t.test(address))) && !excludes.some((e) => e.test(address))
}

/** Up to `n` addresses closest to the pattern (wildcards ignored), for a pattern that matches nothing. */
export function closestAddresses(pattern: string, addresses: Iterable<Address>, n = 3): Address[] {
  const bare = pattern.replace(/[*?]/g, '').toLowerCase()
  return [...addresses]
    .map((a) => ({a, d: editDistance(bare, a.toLowerCase())}))
    .sort((x, y) => x.d - y.d || compareAddresses(x.a, y.a))
    .slice(0, n)
    .map((x) => x.a)
}

export interface Selection {
  desired: DesiredCard[]
  /** A shallow copy holding only the selected resources (lineage, serial and generations unchanged), or null. */
  state: StateDocument | null
  /** `target-matches-nothing` / `exclude-matches-nothing` errors and the `targeting-in-effect` warning. */
  diagnostics: Diagnostic[]
}

/**
 * Narrow the specs and the state to the selected addresses. Every pattern must match some card in the specs or the
 * state: a pattern that matches nothing is almost always a typo, and planning "nothing" silently would hide it.
 *
 * The state returned is a copy for planning only: whoever writes state must write the full document, or the cards
 * left out would be forgotten.
 */
export function selectCards(
  desired: readonly DesiredCard[],
  state: StateDocument | null,
  targetPatterns: readonly string[],
  excludePatterns: readonly string[],
): Selection {
  if (targetPatterns.length === 0 && excludePatterns.length === 0) return {desired: [...desired], state, diagnostics: []}
  const targets = targetPatterns.map(compilePattern)
  const excludes = excludePatterns.map(compilePattern)
  const all = [...new Set([...desired.map((d) => d.address), ...Object.keys(state?.resources ?? {})])].sort(compareAddresses)
  const diagnostics: Diagnostic[] = []
  const unmatched = (p: AddressPattern, code: string, flag: string) => {
    if (all.some((a) => p.test(a))) return
    const near = closestAddresses(p.pattern, all)
    diagnostics.push({
      severity: 'error',
      code,
      message:
        `${flag} ${p.pattern} matches no card in the specs or the state` +
        (near.length ? `; the closest addresses are ${near.join(', ')}` : '; there are no cards at all'),
    })
  }
  for (const t of targets) unmatched(t, 'target-matches-nothing', '--target')
  for (const e of excludes) unmatched(e, 'exclude-matches-nothing', '--exclude')
  const selected = all.filter((a) => isSelected(a, targets, excludes))
  const flags = [...targetPatterns.map((t) => `--target ${t}`), ...excludePatterns.map((e) => `--exclude ${e}`)].join(' ')
  diagnostics.push({
    severity: 'warning',
    code: 'targeting-in-effect',
    message:
      `Resource targeting is in effect (${flags}): the plan may be incomplete; it considers ${selected.length} of ` +
      `${all.length} cards, the others were neither read nor planned. Targeting is for exceptional situations, ` +
      `such as fixing one card after a mistake, not routine use: run a full plan afterwards`,
  })
  const keep = new Set(selected)
  return {
    desired: desired.filter((d) => keep.has(d.address)),
    state: state && {...state, resources: Object.fromEntries(Object.entries(state.resources).filter(([a]) => keep.has(a)))},
    diagnostics,
  }
}
