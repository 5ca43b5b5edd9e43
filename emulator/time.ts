/**
 * Times the API returns: RFC 3339 with milliseconds and the +08:00 offset, e.g. `2020-05-20T13:29:35.120+08:00`
 * (reference §5 brand card-member, and every example in the seeds).
 */
export function formatTime(ms: number): string {
  const d = new Date(ms + 8 * 3600_000)
  const p = (n: number, w = 2) => String(n).padStart(w, '0')
  return (
    `${p(d.getUTCFullYear(), 4)}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}T` +
    `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.${p(d.getUTCMilliseconds(), 3)}+08:00`
  )
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/

/** Milliseconds since the epoch, or undefined when the text is not an RFC 3339 date-time. */
export function parseTime(text: string): number | undefined {
  if (!RFC3339.test(text)) return undefined
  const ms = Date.parse(text)
  return Number.isNaN(ms) ? undefined : ms
}
