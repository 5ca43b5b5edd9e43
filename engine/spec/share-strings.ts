/**
 * Shortest string V8 makes a slice of rather than a copy (`SlicedString::kMinLength`). A slice keeps the whole string
 * it was cut from alive.
 */
const MIN_SLICE = 13

/**
 * Replaces, in place, every string of `value` long enough to be a slice of its file's text by one copy shared by all
 * equal strings of the project (`pool`). Values read from YAML are slices of the file's text, so one card kept for a
 * plan kept its whole file's text alive: at 100,000 cards, 93 MB of texts (UTF-16, the titles being Chinese) behind
 * 100 MB of specs. Sharing also keeps one copy of the values cards repeat (appid, logo URLs, brand_id, descriptions).
 * Shorter strings are copies already, and are left alone.
 */
export function shareStrings(value: unknown, pool: Map<string, string>): unknown {
  if (typeof value === 'string') {
    if (value.length < MIN_SLICE) return value
    let shared = pool.get(value)
    // A new string of the same characters, so the pool keeps neither the slice nor its parent.
    if (shared === undefined) pool.set((shared = (value + ' ').slice(0, -1)), shared)
    return shared
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = shareStrings(value[i], pool)
  } else if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>
    for (const key of Object.keys(record)) record[key] = shareStrings(record[key], pool)
  }
  return value
}
