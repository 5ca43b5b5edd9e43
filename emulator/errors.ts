/**
 * An error the emulated API answers with: the HTTP status and the APIv3 error body `{code, message, detail?}`
 * (reference wechatpay-api.md §3). Handlers throw it; the server turns it into a signed response.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly detail?: Record<string, unknown>,
    /** Extra response headers (Retry-After on 429). */
    readonly headers?: Record<string, string>,
  ) {
    super(message)
    this.name = 'ApiError'
  }

  toBody(): Record<string, unknown> {
    return this.detail === undefined
      ? {code: this.code, message: this.message}
      : {code: this.code, message: this.message, detail: this.detail}
  }
}

/** 400 INVALID_REQUEST: the request breaks a business rule (reference §3 business codes). */
export function invalidRequest(message: string): ApiError {
  return new ApiError(400, 'INVALID_REQUEST', message)
}

/** 400 PARAM_ERROR with a detail naming the field (the shape of the real validator's answers, reference §3). */
export function paramError(message: string, field?: string, location = 'body'): ApiError {
  return new ApiError(400, 'PARAM_ERROR', message, field === undefined ? undefined : {field, location})
}

/**
 * 404 for a card that does not exist. Inference: no membercard-specific 404 code is documented; RESOURCE_NOT_EXISTS
 * is the code the API uses for other missing resources (reference §3).
 */
export function cardNotFound(cardId: string): ApiError {
  return new ApiError(404, 'RESOURCE_NOT_EXISTS', `会员卡不存在: ${cardId}`)
}
