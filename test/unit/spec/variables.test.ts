import {mkdirSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {loadProject} from '../../../engine/spec/load-project.js'
import {fixturesDir, placed} from './helpers.js'

const gold = readFileSync(path.join(fixturesDir, 'valid/cards/gold.yaml'), 'utf8')

/** A project of one card (gold.yaml with `edit` applied), its cardform.yaml and var files under envs/. */
function project(edit: (text: string) => string, varFiles: Record<string, string> = {}, config = 'cards: cards\n'): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'cardform-vars-'))
  mkdirSync(path.join(dir, 'cards'))
  mkdirSync(path.join(dir, 'envs'))
  writeFileSync(path.join(dir, 'cardform.yaml'), config)
  writeFileSync(path.join(dir, 'cards/gold.yaml'), edit(gold))
  for (const [name, text] of Object.entries(varFiles)) writeFileSync(path.join(dir, 'envs', name), text)
  return dir
}

const useVars = (text: string) =>
  text
    .replace('appid: wx1234567890abcdef', 'appid: ${var.appid}')
    .replace('total_quantity: 100000', 'total_quantity: ${var.quantity}')
    .replace('need_display_level: true', 'need_display_level: "${var.levels}"')
    .replace('title: 金卡会员', 'title: ${var.brand}金卡 ${var.quantity}')

describe('${var.NAME} from --var-file and --var', () => {
  it('gives a whole value the variable’s type and stringifies one inside a string', async () => {
    const dir = project(useVars, {'prod.yaml': 'appid: wxabcdefabcdef0123\nquantity: 500\nlevels: false\nbrand: 微信\n'})
    const p = await loadProject(dir, {env: {}, variables: {files: ['envs/prod.yaml']}})
    expect(p.diagnostics).toEqual([])
    expect(p.documents[0]!.spec).toMatchObject({appid: 'wxabcdefabcdef0123', total_quantity: 500, need_display_level: false, title: '微信金卡 500'})
    expect(p.variables).toEqual({appid: 'wxabcdefabcdef0123', quantity: 500, levels: false, brand: '微信'})
  })

  it('lets a later var file, then --var, win', async () => {
    const dir = project(useVars, {'base.yaml': 'appid: wxabcdefabcdef0123\nquantity: 500\nlevels: false\nbrand: a\n', 'prod.yaml': 'quantity: 7\n'})
    const p = await loadProject(dir, {env: {}, variables: {files: ['envs/base.yaml', 'envs/prod.yaml'], assignments: ['brand=b', 'levels=true']}})
    expect(p.diagnostics).toEqual([])
    expect(p.documents[0]!.spec).toMatchObject({total_quantity: 7, need_display_level: true, title: 'b金卡 7'})
  })

  it('reports a missing variable at its use, naming the var files, and no schema error for the same value', async () => {
    const dir = project(useVars, {'prod.yaml': 'appid: wxabcdefabcdef0123\nquantity: 500\n'})
    const p = await loadProject(dir, {env: {}, variables: {files: ['envs/prod.yaml']}})
    expect(placed(p.diagnostics)).toEqual(['cards/gold.yaml:11:10 var-missing', 'cards/gold.yaml:19:23 var-missing'])
    expect(p.diagnostics[0]!.message).toBe('spec.title: variable brand is not set (referenced as ${var.brand}): it is not defined in envs/prod.yaml')
    expect(p.documents).toEqual([])
  })

  it('reports a variable use without any --var-file as missing', async () => {
    const p = await loadProject(project(useVars), {env: {}})
    expect(p.diagnostics.map((d) => d.code)).toEqual(Array(5).fill('var-missing'))
    expect(p.diagnostics[0]!.message).toContain('no --var-file or --var was given')
  })

  it('warns about a variable nothing references, at its line in the var file', async () => {
    const dir = project((t) => t, {'prod.yaml': '# production\nappid: wx\nunused_name: 1\n'})
    const p = await loadProject(dir, {env: {}, variables: {files: ['envs/prod.yaml'], assignments: ['cli_only=x']}})
    expect(placed(p.diagnostics)).toEqual([' var-unused', 'envs/prod.yaml:2:1 var-unused', 'envs/prod.yaml:3:1 var-unused'])
    expect(p.diagnostics.every((d) => d.severity === 'warning')).toBe(true)
    expect(p.documents).toHaveLength(1)
  })

  it('counts a use in cardform.yaml', async () => {
    const dir = project((t) => t, {'prod.yaml': 'cards_dir: cards\n'}, 'cards: ${var.cards_dir}\n')
    const p = await loadProject(dir, {env: {}, variables: {files: ['envs/prod.yaml']}})
    expect(p.diagnostics).toEqual([])
    expect(p.config).toEqual({cards: 'cards'})
  })

  it('refuses a var file that is missing, not a mapping, or holds a list, with positions', async () => {
    const dir = project((t) => t, {'list.yaml': '- a\n- b\n', 'nested.yaml': 'ok: 1\nbad:\n  x: 1\n"9lives": 2\n'})
    const load = (files: string[]) => loadProject(dir, {env: {}, variables: {files}})
    expect(placed((await load(['envs/none.yaml'])).diagnostics)).toEqual([' var-file-missing'])
    expect(placed((await load(['envs/list.yaml'])).diagnostics)).toEqual(['envs/list.yaml:1:1 var-file-invalid'])
    expect(placed((await load(['envs/nested.yaml'])).diagnostics)).toEqual(['envs/nested.yaml:3:3 var-file-invalid', 'envs/nested.yaml:4:1 var-file-invalid'])
  })

  it('refuses a malformed --var', async () => {
    const p = await loadProject(project((t) => t), {env: {}, variables: {assignments: ['novalue', 'x=[1]']}})
    expect(p.diagnostics.map((d) => d.code)).toEqual(['var-invalid', 'var-invalid'])
  })

  it('reads a project with the values a saved plan carries, without var-unused', async () => {
    const dir = project(useVars)
    const p = await loadProject(dir, {env: {}, resolvedVariables: {appid: 'wxabcdefabcdef0123', quantity: 1, levels: true, brand: 'x', extra: 'y'}})
    expect(p.diagnostics).toEqual([])
    expect(p.documents[0]!.spec.total_quantity).toBe(1)
  })

  it('checks variables the same on worker threads', async () => {
    const dir = project(useVars, {'prod.yaml': 'appid: wxabcdefabcdef0123\nquantity: 500\nunused_name: 1\n'})
    const options = {env: {}, variables: {files: ['envs/prod.yaml']}}
    const serial = await loadProject(dir, {...options, workers: 0})
    const parallel = await loadProject(dir, {...options, workers: 2, parallelAbove: 0})
    expect(placed(parallel.diagnostics)).toEqual(placed(serial.diagnostics))
    expect(parallel.diagnostics.map((d) => d.code)).toEqual(['var-missing', 'var-missing', 'var-unused'])
  })
})
