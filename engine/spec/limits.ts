/**
 * Bounds on what the loader accepts. Spec files come from a repository that anyone with push rights may change, so
 * hostile input (alias bombs, megabyte files, nesting thousands deep) must fail with a clear diagnostic while
 * memory and stack stay bounded. The numbers are far above anything a real card needs.
 */
export const LOADER_LIMITS = {
  /** Largest spec or config file read, in bytes; checked with stat before reading. */
  maxFileBytes: 1024 * 1024,
  /** Most alias expansions per document (yaml's `maxAliasCount`); defeats "billion laughs". */
  maxAliasCount: 100,
  /** Deepest nesting of collections in a document; a member card is about 5 deep. */
  maxDepth: 64,
  /** Most YAML documents in one file. */
  maxDocumentsPerFile: 1000,
  /**
   * Most lexical tokens (scalars and indicators; spaces and line breaks are not counted) in one file; an ordinary card
   * has about 80, so the 1,000 documents a file may hold fit. The byte cap alone does not bound memory: yaml spends
   * some 500 bytes to 1 KB per token, so a megabyte of `[1,1,1…]` or `{,,,…}` (a token a byte) took 0.5 to 1.2 GB and
   * 20 seconds. Measured peak RSS of `validate` at the cap: `{,,,…}` about 150 MB, `[1,1,…]` about 180 MB.
   */
  maxTokensPerFile: 150_000,
  /** Most diagnostics reported for one file; past this one more says how many were left out. */
  maxDiagnosticsPerFile: 100,
} as const

export type LoaderLimits = {readonly [K in keyof typeof LOADER_LIMITS]: number}
