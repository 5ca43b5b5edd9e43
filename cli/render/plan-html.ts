import type {Address} from '../../engine/model/address.js'
import {formatPosition} from '../../engine/model/diagnostic.js'
import type {Drift, FieldChange, Plan, ResourceChange} from '../../engine/model/plan.js'
import {assertNever} from '../../engine/model/plan.js'
import type {ImageFile} from '../../engine/model/image.js'
import {changesSomething} from '../../engine/plan/compute-plan.js'
import {imageKey, type CardFace, type ImageSlot} from '../report/card-face.js'
import type {ResolvedImage} from '../report/images.js'
import {
  actionMarker,
  actionPhrase,
  destructiveSentence,
  fieldMarker,
  formatValue,
  irreversibleSentence,
  isLongText,
  reasonPhrase,
  reviewLine,
  skippedLine,
  stateUpdateLine,
  summaryLine,
  targetingLine,
  textDiffLines,
  where,
} from './plan-common.js'

/** Where the before face of a card comes from. */
export type BeforeSource = 'live' | 'state' | 'import'

/** The two faces of one changed card. A side is absent when there is no card on it (create, delete, forget …). */
export interface CardSides {
  before?: CardFace
  beforeSource?: BeforeSource
  after?: CardFace
}

export interface PlanHtmlView {
  plan: Plan
  /** By change address. */
  faces: ReadonlyMap<Address, CardSides>
  /** By imageKey: every image a face or an upload shows. An image not in the map is drawn as a placeholder. */
  images: ReadonlyMap<string, ResolvedImage>
}

/**
 * The plan as one self-contained HTML page for reviewers: no script, no external URL (images are data: URIs), inline
 * CSS. Pure: (view) → text; the images are resolved beforehand (cli/report/visual-plan.ts).
 *
 * Order as in the terminal plan: what needs attention first (errors, destructive and irreversible changes), then
 * drift, then each changed card with its face before and after and its field table; unchanged cards only counted.
 * Colour is never the only signal: every marker is also a word.
 */
export function renderPlanHtml(view: PlanHtmlView): string {
  const {plan} = view
  const changed = plan.changes.filter(changesSomething)
  const unchanged = plan.changes.length - changed.length
  const body: string[] = []
  body.push('<header>', '<h1>cardform plan</h1>', `<p class="summary"><strong>${esc(summaryLine(plan))}</strong></p>`)
  const targeting = targetingLine(plan)
  if (targeting) body.push(`<p class="note">${esc(targeting)}</p>`)
  if (!plan.refreshed) body.push('<p class="note">Live cards were not read (--refresh=false): drift is not shown, and the before faces are the cards as last applied.</p>')
  body.push(summaryTable(plan), `<p class="meta">Planned ${esc(plan.created_at)} by cardform ${esc(plan.cardform_version)}.</p>`, '</header>')

  body.push(...attention(plan))
  if (plan.drift.length) {
    body.push('<section class="drift" aria-labelledby="drift-h">', '<h2 id="drift-h">Changed outside cardform (drift)</h2>')
    for (const d of plan.drift) body.push(...driftBlock(d))
    body.push('</section>')
  }
  if (plan.reviews?.length) {
    body.push('<section aria-labelledby="review-h">', '<h2 id="review-h">WeChat Pay review (审核; not drift, nothing to apply)</h2>', '<ul>')
    for (const r of plan.reviews) body.push(`<li>${r.status === 'failed' ? '<span class="tag destructive">failed review</span> ' : ''}${esc(reviewLine(r))}</li>`)
    body.push('</ul>', '</section>')
  }
  if (changed.length) {
    body.push('<section aria-labelledby="changes-h">', `<h2 id="changes-h">Changes (${changed.length} card${changed.length === 1 ? '' : 's'})</h2>`)
    for (const c of changed) body.push(...changeSection(c, view))
    body.push('</section>')
  }
  if (plan.uploads?.length) body.push(...uploadsSection(plan.uploads, view.images))
  if (plan.skipped?.length) {
    body.push('<section aria-labelledby="skipped-h">', '<h2 id="skipped-h">Left alone (--no-delete)</h2>', '<ul>')
    for (const s of plan.skipped) body.push(`<li>${esc(skippedLine(s))}</li>`)
    body.push('</ul>', '</section>')
  }
  const warnings = plan.diagnostics.filter((d) => d.severity !== 'error')
  if (warnings.length) {
    body.push('<section aria-labelledby="warnings-h">', '<h2 id="warnings-h">Warnings</h2>', '<ul class="diagnostics">')
    for (const d of warnings) body.push(`<li>${diagnostic(d)}</li>`)
    body.push('</ul>', '</section>')
  }
  body.push(`<p class="unchanged">${unchanged} card${unchanged === 1 ? '' : 's'} unchanged${unchanged ? ' (not shown)' : ''}.</p>`)

  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    // No script, no network: images are data: URIs, styles are inline.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">`,
    `<title>${esc(`cardform plan: ${summaryLine(plan)}`)}</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
    '<main>',
    ...body,
    '</main>',
    '</body>',
    '</html>',
    '',
  ].join('\n')
}

function summaryTable(plan: Plan): string {
  // The six counts of format 1.0 always; the later ones (import, forget, move, state-only) only when not zero.
  const always = new Set(['create', 'update', 'replace', 'delete', 'invalidate', 'no_op'])
  const counts = Object.entries(plan.summary).filter(([k, v]) => always.has(k) || v)
  const head = counts.map(([k]) => `<th scope="col">${esc(k.replace('_', '-'))}</th>`).join('')
  const row = counts.map(([, v]) => `<td>${v}</td>`).join('')
  return `<table class="counts"><caption>Cards by action</caption><thead><tr>${head}</tr></thead><tbody><tr>${row}</tr></tbody></table>`
}

function attention(plan: Plan): string[] {
  const errors = plan.diagnostics.filter((d) => d.severity === 'error')
  const destructive = plan.changes.filter((c) => c.destructive)
  const irreversible = plan.changes.flatMap((c) => c.irreversible_paths.map((p) => ({c, p})))
  if (!errors.length && !destructive.length && !irreversible.length) return []
  const out = ['<section class="attention" aria-labelledby="attention-h">', '<h2 id="attention-h">Needs attention</h2>']
  if (errors.length) {
    out.push('<div class="callout error" role="alert">', '<h3>Errors: this plan cannot be applied</h3>', '<ul class="diagnostics">')
    for (const d of errors) out.push(`<li>${diagnostic(d)}</li>`)
    out.push('</ul>', '</div>')
  }
  if (destructive.length) {
    out.push('<div class="callout destructive">', '<h3>Destructive: members lose these cards</h3>', '<ul>')
    for (const c of destructive) out.push(`<li><span class="tag destructive">destructive</span> <a href="#${anchor(c.address)}">${esc(destructiveSentence(c))}</a></li>`)
    out.push('</ul>', '</div>')
  }
  if (irreversible.length) {
    out.push('<div class="callout irreversible">', '<h3>Irreversible: can never be switched off</h3>', '<ul>')
    for (const {c, p} of irreversible) out.push(`<li><span class="tag irreversible">irreversible</span> <a href="#${anchor(c.address)}">${esc(irreversibleSentence(c, p))}</a></li>`)
    out.push('</ul>', '</div>')
  }
  out.push('</section>')
  return out
}

function diagnostic(d: Plan['diagnostics'][number]): string {
  const pos = d.source ? ` <code>${esc(formatPosition(d.source))}</code>` : ''
  return `<span class="tag ${d.severity === 'error' ? 'destructive' : 'warning'}">${esc(d.severity)}</span> <code>${esc(d.code)}</code>${pos} ${esc(d.message)}`
}

function driftBlock(d: Drift): string[] {
  const id = d.remote_id ? ` (card <code>${esc(d.remote_id)}</code>)` : ''
  if (d.type === 'deleted') return [`<p><span class="tag drift">drift</span> <strong>${esc(d.address)}</strong>${id} was deleted outside cardform.</p>`]
  return [
    `<p><span class="tag drift">drift</span> <strong>${esc(d.address)}</strong>${id} was changed outside cardform.</p>`,
    fieldTable(d.field_changes, `Changed outside cardform: ${d.address}`, 'As last applied', 'Live', new Map(), false),
  ]
}

function changeSection(c: ResourceChange, view: PlanHtmlView): string[] {
  const sides = view.faces.get(c.address) ?? {}
  const moved = c.moved_from && c.action === 'no-op'
  const label = moved ? 'moved' : actionLabel(c)
  // The terminal plan's marker too (`-/+ replace`), unless it is the word itself (forget) or blank (no-op).
  const marker = moved ? '' : actionMarker(c.action).trim()
  const tag = marker && marker !== label ? `${marker} ${label}` : label
  const id = c.remote_id ? ` <span class="card-id">card <code>${esc(c.remote_id)}</code></span>` : ''
  const loc = where(c)
  const why = c.action === 'no-op' ? '' : `: ${reasonPhrase(c.reason)}`
  const out = [
    `<section class="change action-${moved ? 'moved' : c.action}" id="${anchor(c.address)}" aria-labelledby="${anchor(c.address)}-h">`,
    `<h3 id="${anchor(c.address)}-h"><span class="tag action-${moved ? 'moved' : c.action}">${esc(tag)}</span> ${esc(c.address)}${id}</h3>`,
    `<p>${esc(`${c.address} ${actionPhrase(c)}${why}`)}${loc ? ` <span class="where">(<code>${esc(loc)}</code>)</span>` : ''}</p>`,
  ]
  if (c.moved_from) out.push(`<p>${esc(`${c.moved_from} has moved to ${c.address}`)} (no API call).</p>`)
  if (c.destructive) out.push(`<p class="callout destructive"><span class="tag destructive">destructive</span> ${esc(destructiveSentence(c))}</p>`)
  out.push('<div class="faces">', side('before', c, sides, view.images), '<div class="arrow" aria-hidden="true">→</div>', side('after', c, sides, view.images), '</div>')
  if (c.field_changes.length) out.push(fieldTable(c.field_changes, `Field changes of ${c.address}`, 'Before', 'After', view.images))
  const notes = [...(c.state_updates ?? []).map(stateUpdateLine)]
  if (c.unchanged_count > 0) notes.push(`${c.unchanged_count} unchanged field${c.unchanged_count > 1 ? 's' : ''} not shown`)
  if (notes.length) out.push('<ul class="notes">', ...notes.map((n) => `<li>${esc(n)}</li>`), '</ul>')
  out.push('</section>')
  return out
}

/** The action as a word, so it never depends on colour. */
export function actionLabel(c: ResourceChange): string {
  switch (c.action) {
    case 'create':
      return 'create'
    case 'update':
      return 'update'
    case 'replace':
      return 'replace'
    case 'delete':
      return 'delete'
    case 'invalidate':
      return 'invalidate'
    case 'import':
      return 'import'
    case 'forget':
      return 'forget'
    case 'no-op':
      return c.state_updates ? 'state only' : 'no change'
    default:
      return assertNever(c.action)
  }
}

function side(which: 'before' | 'after', c: ResourceChange, sides: CardSides, images: ReadonlyMap<string, ResolvedImage>): string {
  const face = which === 'before' ? sides.before : sides.after
  const caption =
    which === 'before'
      ? sides.beforeSource === 'state'
        ? 'Before (as last applied; live card not read)'
        : sides.beforeSource === 'import'
          ? 'Before (the existing card to adopt)'
          : 'Before (live card)'
      : 'After (the spec)'
  if (!face) {
    return `<figure class="side ${which}"><figcaption>${esc(which === 'before' ? 'Before' : 'After')}</figcaption><div class="no-card"><p>${esc(absentSide(which, c))}</p></div></figure>`
  }
  return `<figure class="side ${which}"><figcaption>${esc(caption)}</figcaption>${faceHtml(face, which, images)}${entriesHtml(face)}</figure>`
}

function absentSide(which: 'before' | 'after', c: ResourceChange): string {
  if (which === 'before') {
    if (c.reason === 'deleted-outside') return 'The card is gone (deleted outside cardform).'
    if (c.action === 'create') return c.reason === 'create-interrupted' ? 'An earlier create was interrupted: the card may not exist yet.' : 'No card yet: it will be created.'
    return 'The card was not read.'
  }
  switch (c.action) {
    case 'delete':
      return 'Deleted: members who hold the card lose it.'
    case 'invalidate':
      return 'Invalidated (作废): members who hold the card lose it.'
    case 'forget':
      return 'No longer managed by cardform: the live card stays as it is.'
    default:
      return 'No spec for this card.'
  }
}

function faceHtml(face: CardFace, which: string, images: ReadonlyMap<string, ResolvedImage>): string {
  const color = face.color ?? (face.shape === 'member' ? '#4A5560' : '#6B7280')
  const ink = isLight(color) ? '#111' : '#fff'
  const label = `${which} face of ${face.title || face.kind}`
  const parts: string[] = []
  const picture = face.picture ? image(face.picture, images, face.shape === 'brand' ? 'card picture' : 'background picture', 'face-picture') : ''
  if (face.shape !== 'brand' && picture) parts.push(picture)
  parts.push('<div class="face-top">')
  if (face.logo) parts.push(image(face.logo, images, 'logo', 'face-logo'))
  if (face.brandName) parts.push(`<span class="face-brand">${esc(face.brandName)}</span>`)
  parts.push('</div>')
  parts.push(`<div class="face-title">${esc(face.title)}</div>`)
  if (face.shape === 'brand' && picture) parts.push(`<div class="face-inset">${picture}</div>`)
  const bottom = [face.code ? `<span class="face-code">${esc(face.code)}</span>` : '', face.level ? `<span class="face-level">${esc(face.level)}</span>` : ''].join('')
  parts.push(`<div class="face-bottom">${bottom}</div>`)
  const colorText = face.colorLabel !== undefined ? `<p class="face-color">Colour <code>${esc(face.colorLabel)}</code>${face.color && face.color !== face.colorLabel ? ` (${esc(face.color)})` : ''}${face.color ? '' : ' (not a colour cardform can draw)'}</p>` : ''
  return `<div class="face shape-${face.shape}" role="group" aria-label="${esc(label)}" style="background-color:${color};color:${ink}">${parts.join('')}</div>${colorText}`
}

function entriesHtml(face: CardFace): string {
  if (!face.entries.length) return '<p class="entries-none">No points, balance or rights entries on the card page.</p>'
  const items = face.entries.map((e) => `<li><span class="entry-label">${esc(e.label)}</span>${e.detail ? ` <span class="entry-detail">${esc(e.detail)}</span>` : ''}</li>`)
  return `<ul class="entries" aria-label="Shown on the card page">${items.join('')}</ul>`
}

function image(slot: ImageSlot, images: ReadonlyMap<string, ResolvedImage>, what: string, cls: string): string {
  const resolved = images.get(imageKey(slot.source))
  const from = 'file' in slot.source ? `file ${slot.source.file.file}` : slot.source.url
  if (resolved?.status === 'embedded') return `<img class="${cls}" src="${resolved.dataUri}" alt="${esc(`${what} (${slot.path}: ${from})`)}">`
  const reason = resolved?.status === 'missing' ? resolved.reason : 'not loaded'
  const host = resolved?.status === 'missing' && resolved.host ? resolved.host : undefined
  const text = `${what} not reachable${host ? ` (${host})` : ''}`
  return `<div class="${cls} img-missing" role="img" aria-label="${esc(`${text}: ${reason}`)}" title="${esc(`${from}: ${reason}`)}"><span>image not reachable</span>${host ? `<span>${esc(host)}</span>` : ''}</div>`
}

/** A table of field changes; `notes` false for drift, whose rows are what changed, not what apply will do. */
function fieldTable(fields: readonly FieldChange[], caption: string, beforeHead: string, afterHead: string, images: ReadonlyMap<string, ResolvedImage>, notes = true): string {
  const rows = fields.map((fc) => {
    const mark = fieldMarker(fc)
    const kind = mark === '+' ? 'added' : mark === '-' ? 'removed' : 'changed'
    const tags = [
      fc.forces_replacement ? '<span class="tag destructive">forces replacement</span>' : '',
      fc.irreversible ? '<span class="tag irreversible">irreversible</span>' : '',
      fc.source === 'drift' ? '<span class="tag drift">drifted: restores the configured value</span>' : '',
      fc.write_only && fc.before !== undefined ? '<span class="tag">not readable by GET: compared with state</span>' : '',
    ].filter((t) => t && notes)
    const head = `<th scope="row"><span class="mark">${esc(mark)}</span> <code>${esc(fc.path)}</code> <span class="visually-hidden">${kind}</span></th>`
    if (isLongText(fc)) {
      const lines = textDiffLines(fc.before, fc.after).map((l) => {
        const cls = l.startsWith('+') ? 'add' : l.startsWith('-') ? 'del' : 'ctx'
        return `<span class="${cls}">${esc(l)}</span>`
      })
      return `<tr class="${kind}">${head}<td colspan="2"><pre class="textdiff">${lines.join('\n')}</pre></td><td>${tags.join(' ')}</td></tr>`
    }
    const before = fc.before === undefined ? '<span class="absent">(absent)</span>' : `<code>${esc(formatValue(fc.before))}</code>`
    const after = fc.upload ? uploadCell(fc.upload, images) : fc.after === undefined ? '<span class="absent">(removed)</span>' : `<code>${esc(formatValue(fc.after))}</code>`
    return `<tr class="${kind}">${head}<td>${before}</td><td>${after}</td><td>${tags.join(' ')}</td></tr>`
  })
  return [
    '<table class="fields">',
    `<caption>${esc(caption)}</caption>`,
    `<thead><tr><th scope="col">Field</th><th scope="col">${esc(beforeHead)}</th><th scope="col">${esc(afterHead)}</th><th scope="col">Notes</th></tr></thead>`,
    `<tbody>${rows.join('\n')}</tbody>`,
    '</table>',
  ].join('\n')
}

/** The words a field that uploads a local image shows, as the terminal plan would say them. */
export function uploadPhrase(f: ImageFile): string {
  return `(file ${f.file}, sha256 ${f.sha256.slice(0, 12)}…, ${f.width}×${f.height} ${f.format}) will be uploaded`
}

function uploadCell(f: ImageFile, images: ReadonlyMap<string, ResolvedImage>): string {
  return `<span class="upload">${esc(uploadPhrase(f))}</span>${image({path: f.file, source: {file: f}}, images, 'image to upload', 'thumb')}`
}

function uploadsSection(uploads: readonly ImageFile[], images: ReadonlyMap<string, ResolvedImage>): string[] {
  return [
    '<section aria-labelledby="uploads-h">',
    `<h2 id="uploads-h">Images to upload (${uploads.length})</h2>`,
    '<ul class="uploads">',
    ...uploads.map((u) => `<li>${image({path: u.file, source: {file: u}}, images, 'image to upload', 'thumb')} <span class="upload">${esc(uploadPhrase(u))}</span></li>`),
    '</ul>',
    '</section>',
  ]
}

/** An id for a card's section: its address with everything but [A-Za-z0-9_-] replaced. */
function anchor(address: string): string {
  return `card-${address.replace(/[^A-Za-z0-9_-]/g, '_')}`
}

/** Escape text for HTML content and double-quoted attributes. */
export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;')
}

/** Relative luminance above ~0.5: dark text reads better on it. `color` is #RRGGBB (checked by cardFace). */
function isLight(color: string): boolean {
  const n = Number.parseInt(color.slice(1), 16)
  const [r, g, b] = [(n >> 16) & 255, (n >> 8) & 255, n & 255]
  return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255 > 0.6
}

const CSS = `
:root{color-scheme:light;--ink:#1f2328;--muted:#59636e;--line:#d1d9e0;--add:#1a7f37;--del:#cf222e;--chg:#9a6700;--drift:#8250df;--irr:#bc4c00}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI","PingFang SC","Hiragino Sans GB","Microsoft YaHei","Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif;color:var(--ink);background:#fff}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:26px;margin:0 0 8px}h2{font-size:20px;margin:28px 0 12px;border-bottom:1px solid var(--line);padding-bottom:4px}h3{font-size:17px;margin:0 0 6px}
code,pre{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,"WenQuanYi Micro Hei Mono",monospace;font-size:13px}
.summary{font-size:17px;margin:0 0 8px}.note{color:var(--irr)}.meta,.unchanged{color:var(--muted)}
table{border-collapse:collapse}caption{text-align:left;font-weight:600;padding:4px 0}
th,td{border:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
.counts td{text-align:center}.counts{margin:8px 0}
.callout{border:2px solid var(--line);border-left-width:8px;border-radius:6px;padding:8px 14px;margin:10px 0}
.callout ul{margin:4px 0;padding-left:20px}
.callout.error,.callout.destructive{border-color:var(--del);background:#ffebe9}
.callout.irreversible{border-color:var(--irr);background:#fff1e5}
.tag{display:inline-block;border:1px solid currentColor;border-radius:4px;padding:0 6px;font-size:12px;font-weight:600;white-space:nowrap}
.tag.destructive{color:var(--del)}.tag.irreversible{color:var(--irr)}.tag.drift{color:var(--drift)}.tag.warning{color:var(--chg)}
.tag.action-create,.tag.action-import{color:var(--add)}.tag.action-update,.tag.action-no-op,.tag.action-moved{color:var(--chg)}
.tag.action-replace,.tag.action-delete,.tag.action-invalidate,.tag.action-forget{color:var(--del)}
.change{border:1px solid var(--line);border-radius:8px;padding:14px 16px;margin:16px 0}
.change>p{margin:4px 0}.where,.card-id{color:var(--muted);font-weight:normal;font-size:14px}
.faces{display:flex;align-items:flex-start;gap:12px;margin:12px 0}
.side{flex:1 1 0;min-width:0;margin:0}.side figcaption{font-weight:600;margin-bottom:6px}
.arrow{align-self:center;font-size:28px;color:var(--muted)}
.face{position:relative;overflow:hidden;border-radius:14px;aspect-ratio:1000/600;padding:5% 6%;display:flex;flex-direction:column;box-shadow:0 1px 4px rgba(0,0,0,.25)}
.face-picture{position:absolute;inset:0;width:100%;height:100%;object-fit:cover;z-index:0}
.shape-member .face-top,.shape-member .face-title,.shape-member .face-bottom,.shape-aggregator .face-top,.shape-aggregator .face-title,.shape-aggregator .face-bottom{position:relative;z-index:1;text-shadow:0 1px 2px rgba(0,0,0,.45)}
.face-top{display:flex;align-items:center;gap:10px;min-height:16%}
.face-logo{width:17%;aspect-ratio:1;border-radius:50%;object-fit:cover;background:#fff;flex:none}
.face-brand{font-size:14px;font-weight:600}
.face-title{font-size:20px;font-weight:700;margin-top:4%}
.face-inset{position:relative;margin-top:auto;width:72%;aspect-ratio:716/320;border-radius:8px;overflow:hidden;align-self:flex-end}
.face-inset .face-picture{position:static}
.face-bottom{margin-top:auto;display:flex;justify-content:space-between;gap:8px;font-size:13px;padding-top:6px}
.shape-brand .face-bottom{margin-top:6px}
.face-level{font-weight:600;border:1px solid currentColor;border-radius:10px;padding:0 8px}
.face-color{margin:4px 0 0;color:var(--muted);font-size:13px}
.img-missing{display:flex;flex-direction:column;align-items:center;justify-content:center;text-align:center;gap:2px;background:repeating-linear-gradient(45deg,#eceff1,#eceff1 8px,#dfe3e6 8px,#dfe3e6 16px);color:#3d4852;border:2px dashed #8b98a5;font-size:11px;text-shadow:none;overflow:hidden}
.face-logo.img-missing{font-size:9px;line-height:1.1;padding:2px}
.no-card{aspect-ratio:1000/600;border:2px dashed var(--line);border-radius:14px;display:flex;align-items:center;justify-content:center;text-align:center;padding:16px;color:var(--muted)}
.entries{list-style:none;margin:8px 0 0;padding:0;border:1px solid var(--line);border-radius:8px}
.entries li{padding:6px 10px;border-top:1px solid var(--line)}.entries li:first-child{border-top:0}
.entry-label{font-weight:600}.entry-detail{color:var(--muted)}
.entries-none{color:var(--muted);font-size:13px;margin:8px 0 0}
.fields{width:100%;margin-top:10px;table-layout:fixed}.fields th:first-child{width:30%}.fields th:last-child{width:18%}
.fields td,.fields th{overflow-wrap:anywhere}.fields .tag{white-space:normal}
.fields tr.added .mark{color:var(--add)}.fields tr.removed .mark{color:var(--del)}.fields tr.changed .mark{color:var(--chg)}
.mark{font-family:ui-monospace,monospace;font-weight:700}
.absent{color:var(--muted);font-style:italic}
.textdiff{margin:0;white-space:pre-wrap}.textdiff .add{color:var(--add);background:#dafbe1}.textdiff .del{color:var(--del);background:#ffebe9}.textdiff .ctx{color:var(--muted)}
.upload{display:block}.thumb{display:block;max-width:120px;max-height:80px;margin-top:4px;border:1px solid var(--line)}
div.thumb{width:120px;height:60px}
.uploads{list-style:none;padding:0}.uploads li{display:flex;gap:10px;align-items:center;margin:6px 0}
.notes{color:var(--muted);font-size:14px}
.diagnostics{padding-left:20px}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
@media (max-width:700px){.faces{flex-direction:column}.arrow{transform:rotate(90deg)}}
`
