import {parseAddress, type Address} from '../model/address.js'
import type {ResourceState, StateDocument} from '../model/state.js'
import {StateError} from './errors.js'

/** A card name, as metadata.name allows it (the kind schemas' pattern). */
const NAME = /^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$/
/** A kind, as the state schema allows it in an address. */
const KIND = /^[A-Za-z]+$/

/**
 * Move a card's state entry to another address (`state mv`), as when its spec is renamed: no remote call, and the
 * card keeps its card_id, out_request_no, applied spec and one-way memory, so the next plan finds it unchanged
 * under the new name instead of deleting one card and creating another.
 *
 * The generation count goes with the card: out_request_no derives from address and generation, so TO continues from
 * the higher of the two counts (TO may have had cards before). FROM keeps its count, so a card later created under
 * the old name never repeats the key of the card that moved away (the API would answer with that card).
 *
 * Pure: returns a new document (serial unchanged; the caller's write bumps it) or throws StateError saying why not.
 */
export function moveAddress(state: StateDocument | null, from: Address, to: Address): {state: StateDocument; moved: ResourceState} {
  const source = checkAddress(from, 'FROM')
  const target = checkAddress(to, 'TO')
  const entry = state?.resources[from]
  if (!state || !entry) throw new StateError(`${from} is not in state (see \`cardform state list\`); nothing was moved`, 'state-not-found')
  if (source.kind !== target.kind) {
    throw new StateError(`cannot move ${from} to ${to}: a card cannot change kind (${source.kind} → ${target.kind}); nothing was moved`, 'state-kind-mismatch')
  }
  if (state.resources[to]) {
    const id = state.resources[to].remote_id
    throw new StateError(`cannot move ${from} to ${to}: ${to} is already in state${id ? ` (card ${id})` : ''}; nothing was moved`, 'state-address-taken')
  }
  const next = structuredClone(state)
  const moved: ResourceState = {...structuredClone(entry), name: target.name}
  delete next.resources[from]
  next.resources[to] = moved
  const generation = Math.max(state.generations[from] ?? entry.generation, state.generations[to] ?? 0)
  if (generation > 0) next.generations[to] = generation
  return {state: next, moved}
}

function checkAddress(address: Address, which: string): {kind: string; name: string} {
  let parts: {kind: string; name: string}
  try {
    parts = parseAddress(address)
  } catch {
    throw new StateError(`${which} "${address}" is not a card address: expected Kind.name, e.g. MemberCard.coffee-member`, 'address-invalid')
  }
  if (!KIND.test(parts.kind) || !NAME.test(parts.name)) {
    throw new StateError(
      `${which} "${address}" is not a card address: the kind is letters only and the name must match ${NAME.source} ` +
        `(as metadata.name)`,
      'address-invalid',
    )
  }
  return parts
}
