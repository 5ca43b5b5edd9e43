import {randomUUID} from 'node:crypto'
import {parseAddress, type Address} from '../model/address.js'
import {emptyState, type StateDocument} from '../model/state.js'
import {projectOnto} from '../plan/compute-plan.js'
import {nextRecord, splitWriteOnly} from '../plan/state-record.js'
import {packageVersion} from '../providers/wechatpay/client.js'
import type {Workspace} from '../workspace.js'

/** Why `cardform import` refused; nothing was written. */
export class ImportError extends Error {
  override name = 'ImportError'
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message)
  }
}

export interface ImportResult {
  address: Address
  cardId: string
  /** The state after the import. */
  state: StateDocument
  /** Fields the card has at the paths the spec sets, as recorded (the next plan diffs the spec against them). */
  recorded: Record<string, unknown>
}

/**
 * `cardform import ADDRESS CARD_ID`: record an existing card in state under an address whose spec is in the project,
 * without touching the card (Terraform's imperative import). State records what the card has at the fields the spec
 * sets, so the next plan shows exactly the fields where spec and card differ as changes in config. Write-only fields
 * (the rights block) cannot be read back: they start unrecorded, and the next plan sends the spec's values.
 */
export async function importCard(ws: Workspace, address: Address, cardId: string, lockTimeoutMs: number): Promise<ImportResult> {
  const {kind} = parseAddress(address)
  const d = ws.desired.find((x) => x.address === address)
  if (!d) {
    throw new ImportError(
      `${address} has no spec in the project: write it first (\`cardform query --out DIR\` writes one from the live card), then import`,
      'import-no-spec',
    )
  }
  const wire = ws.wires.get(kind)
  if (!wire || wire.family === 'aggregator') throw new ImportError(`${kind} cards cannot be imported: the API has no call to read a card back`, 'import-unsupported')
  const lock = await ws.store.lock('import', lockTimeoutMs)
  try {
    const state = (await ws.store.read()) ?? emptyState(randomUUID(), packageVersion())
    if (state.resources[address]) {
      throw new ImportError(
        `${address} is already in state (card ${state.resources[address]!.remote_id ?? 'being created'}); run \`cardform state rm ${address}\` first to adopt another card`,
        'import-address-taken',
      )
    }
    const other = Object.entries(state.resources).find(([, r]) => r.remote_id === cardId)
    if (other) throw new ImportError(`card ${cardId} is already managed as ${other[0]}; use \`cardform state mv ${other[0]} ${address}\` to rename it`, 'import-already-managed')
    const gateway = await ws.gateway()
    const live = await gateway.read(kind, cardId, d.spec)
    if (live.status === 'gone') throw new ImportError(`card ${cardId} cannot be imported: ${live.detail}`, 'import-not-found')
    const {readable} = splitWriteOnly(wire.lookup, d.spec)
    const recorded = projectOnto(readable, live.object)
    const rec = nextRecord(wire, d.spec, d.metadata, undefined)
    const generation = (state.generations[address] ?? 0) + 1
    state.resources[address] = {
      kind,
      name: d.name,
      status: 'created',
      remote_id: cardId,
      out_request_no: 'imported',
      generation,
      applied: recorded,
      write_only: {},
      live_fingerprint: live.fingerprint,
      ...(rec.lifecycle ? {lifecycle: rec.lifecycle} : {}),
      updated_at: new Date().toISOString(),
    }
    state.generations[address] = generation
    state.serial += 1
    await ws.store.write(state)
    return {address, cardId, state, recorded}
  } finally {
    await ws.store.unlock(lock.id)
  }
}
