import type {LiveRead} from '../plan/compute-plan.js'

/**
 * What apply and refresh need from a remote API, per card kind. The concrete gateway maps these onto the WeChat Pay
 * endpoints of each family; nothing in engine/apply or engine/plan knows about HTTP.
 */
export interface CardGateway {
  /** GET the live card. `applied` is the spec applied last time (the brand family needs its brand_id). */
  read(kind: string, remoteId: string, applied: Record<string, unknown>): Promise<LiveRead>
  /** POST a create with the idempotency key already inside `body`; returns the new card's id and live object. */
  create(kind: string, body: Record<string, unknown>, outRequestNo: string): Promise<{remoteId: string; live?: Record<string, unknown>}>
  patch(kind: string, remoteId: string, body: Record<string, unknown>): Promise<{live?: Record<string, unknown>}>
  setRights(kind: string, remoteId: string, body: Record<string, unknown>): Promise<void>
  /** Remove a card (DELETE or invalidate). A card that is already gone counts as removed. */
  remove(kind: string, remoteId: string, how: 'delete' | 'invalidate', body: Record<string, unknown>): Promise<void>
  close(): Promise<void>
}

/** A failed remote call, as apply reports it. */
export interface RemoteFailure {
  message: string
  status?: number
  code?: string
  requestId?: string
}

export function describeFailure(e: unknown): RemoteFailure {
  const err = e as {message?: string; status?: number; code?: string; requestId?: string}
  return {
    message: err?.message ?? String(e),
    ...(typeof err?.status === 'number' ? {status: err.status} : {}),
    ...(typeof err?.code === 'string' ? {code: err.code} : {}),
    ...(typeof err?.requestId === 'string' ? {requestId: err.requestId} : {}),
  }
}
