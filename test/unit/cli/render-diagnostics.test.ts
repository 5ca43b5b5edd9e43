import {describe, expect, it} from 'vitest'
import {useColor} from '../../../cli/base-command.js'
import {renderValidation, toDiagnosticsDocument} from '../../../cli/render/diagnostics.js'
import {plainStyle} from '../../../cli/render/style.js'
import type {Diagnostic} from '../../../engine/model/diagnostic.js'

const duplicate: Diagnostic = {
  severity: 'error',
  code: 'duplicate-name',
  message: 'MemberCard.gold is defined twice: here and at cards/a.yaml:4:9',
  source: {file: 'cards/b.yaml', line: 4, column: 9},
  related: [{file: 'cards/a.yaml', line: 4, column: 9}],
}

describe('renderValidation', () => {
  it('prints file:line:column: error[code]: message, related places and a summary', () => {
    expect(renderValidation([duplicate], {documents: 1, files: 2}, plainStyle)).toBe(
      [
        'cards/b.yaml:4:9: error[duplicate-name]: MemberCard.gold is defined twice: here and at cards/a.yaml:4:9',
        '  see also cards/a.yaml:4:9',
        'Invalid: 1 error and 0 warnings; 1 card in 2 files passed.',
      ].join('\n'),
    )
  })

  it('prints only a summary when everything is valid', () => {
    expect(renderValidation([], {documents: 3, files: 2}, plainStyle)).toBe('Valid: 3 cards in 2 files.')
  })

  it('counts errors and warnings in the JSON document', () => {
    const warning: Diagnostic = {severity: 'warning', code: 'yaml-warning', message: 'w'}
    expect(toDiagnosticsDocument([duplicate, warning])).toMatchObject({format_version: '1.0', valid: false, error_count: 1, warning_count: 1})
    expect(toDiagnosticsDocument([warning]).valid).toBe(true)
  })
})

describe('useColor', () => {
  it('colours only a terminal without NO_COLOR, unless a flag decides', () => {
    expect(useColor(undefined, true, undefined)).toBe(true)
    expect(useColor(undefined, false, undefined)).toBe(false)
    expect(useColor(undefined, true, '1')).toBe(false)
    expect(useColor(false, true, undefined)).toBe(false)
    expect(useColor(true, false, '1')).toBe(true)
  })
})
