/**
 * How far a run of remote calls has come, for a progress display: `done` of `total` cards finished (read, applied,
 * failed or skipped) and `requests` remote calls made so far. The engine reports it; only the CLI draws it.
 */
export interface Progress {
  done: number
  total: number
  requests: number
}

export type OnProgress = (p: Progress) => void
