/**
 * Comment size limits of the code-review platforms, in characters; `plan --markdown-limit` defaults to GitHub's.
 * GitLab's is its notes API's ("Limited to 1,000,000 characters"), used by examples/ci/gitlab.
 * Lengths are measured as UTF-16 code units (`string.length`), never fewer than the characters a platform counts, so
 * a comment within the limit here fits there.
 */
export const COMMENT_LIMITS = {github: 65_536, bitbucket: 32_768, azureDevOps: 4_000, gitlab: 1_000_000} as const
