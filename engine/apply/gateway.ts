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
  /**
   * Upload an image (POST /v3/marketing/favor/media/image-upload, multipart `file` + `meta` {filename, sha256}, the
   * signature over the meta JSON) and return its permanent media URL.
   */
  uploadImage(image: {filename: string; bytes: Uint8Array; sha256: string}): Promise<{mediaUrl: string}>
  /** What a failed call says, and whether the API certainly refused it (so nothing was changed). */
  describeFailure(e: unknown): RemoteFailure
  close(): Promise<void>
}

/** A failed remote call, as apply reports it. */
export interface RemoteFailure {
  message: string
  /** HTTP status, when the API answered. */
  status?: number
  code?: string
  requestId?: string
  /**
   * The API answered with a refusal (4xx): the call changed nothing. False when the outcome is unknown (connection
   * lost, timeout, 5xx after retries), in which case the call may or may not have taken effect. A 429 that is
   * refused (the aggregator's) changed nothing but is no verdict on the request: the same call may pass later.
   */
  refused: boolean
}
