import {stringify} from 'yaml'
import type {Diagnostic} from '../model/diagnostic.js'
import {checkSpecText} from '../spec/check-file.js'
import {LOADER_LIMITS} from '../spec/limits.js'
import {API_VERSION, type SpecValidator} from '../spec/spec-validator.js'
import {isPlainObject} from '../diff/values.js'

/** A live card made into a document, with what the file should tell its reader. */
export interface AdoptedCard {
  kind: string
  name: string
  cardId: string
  title: string
  spec: Record<string, unknown>
  /** Write-only fields the spec could hold but that GET does not return (spec-from-live.ts). */
  notReadable: string[]
  notReadableOneWay: string[]
}

/** The document as plain data: the envelope, metadata naming the card it adopts, and the spec. */
export function adoptedDocument(card: AdoptedCard): Record<string, unknown> {
  return {
    apiVersion: API_VERSION,
    kind: card.kind,
    metadata: {name: card.name, description: `imported from ${card.cardId}: ${card.title}`, import_id: card.cardId},
    spec: card.spec,
  }
}

/**
 * The YAML text of the spec file: a `$schema` line for editors (`schemaRef`, relative to the file), the envelope and
 * metadata, then the fields GET cannot return named in a comment above `spec:`. Every `${` in a value is written as
 * `$${`, the loader's escape, so text from WeChat Pay is never taken for an `${env:NAME}` reference.
 */
export function renderSpecFile(card: AdoptedCard, schemaRef: string): string {
  const {spec, ...head} = escapeInterpolation(adoptedDocument(card)) as Record<string, unknown>
  const lines = [
    `# yaml-language-server: $schema=${schemaRef}`,
    `# Imported by \`cardform query\` from WeChat Pay card ${card.cardId}: check it, then \`cardform plan\` shows it as an import.`,
    stringify(head, {lineWidth: 0}).trimEnd(),
  ]
  if (card.notReadable.length > 0) {
    const oneWay = card.notReadableOneWay.length > 0 ? `; ${card.notReadableOneWay.join(', ')}: once on, never off` : ''
    lines.push(
      `# Not readable from WeChat Pay, so not written here: ${card.notReadable.join(', ')}`,
      `# (set them only if you know their values${oneWay})`,
    )
  }
  lines.push(stringify({spec}, {lineWidth: 0}).trimEnd())
  return lines.join('\n') + '\n'
}

/**
 * Checks the text with the loader's own parser and validator, as `cardform validate` will (`file` names it in the
 * diagnostics). No environment: the text has no references left to resolve.
 */
export function checkSpecFileText(text: string, file: string, validator: SpecValidator): Diagnostic[] {
  return checkSpecText(text, file, {env: {}, limits: LOADER_LIMITS, validator}).diagnostics
}

function escapeInterpolation(value: unknown): unknown {
  // A function, not a replacement string: in one, `$$` stands for a single `$`.
  if (typeof value === 'string') return value.replaceAll('${', () => '$${')
  if (Array.isArray(value)) return value.map(escapeInterpolation)
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, escapeInterpolation(v)]))
  return value
}
