/**
 * A card's address is `Kind.name`, e.g. `MemberCard.gold`: the key of a card in specs, state and plans.
 * Kinds never contain a dot, so the first dot splits it even when the name has dots of its own.
 */
export type Address = string

export function formatAddress(kind: string, name: string): Address {
  return `${kind}.${name}`
}

export function parseAddress(address: Address): {kind: string; name: string} {
  const dot = address.indexOf('.')
  if (dot <= 0 || dot === address.length - 1) throw new Error(`invalid card address "${address}": expected Kind.name`)
  return {kind: address.slice(0, dot), name: address.slice(dot + 1)}
}

/** Sort addresses so every output lists cards in the same order. */
export function compareAddresses(a: Address, b: Address): number {
  return a < b ? -1 : a > b ? 1 : 0
}
