import type {ImageFile} from '../../engine/model/image.js'

/**
 * What a member card looks like to a member, worked out from a spec (or a live card in spec shape): the face (colour,
 * pictures, title, brand, code type, level) and the entries of the card page below it (积分, 储值, 优惠 …). Pure data,
 * so the HTML renderer stays a function of it and the tests can check it without a browser.
 */
export interface CardFace {
  kind: string
  /** member: 1000×600 background picture; brand: a colour face around a 716×320 picture; aggregator: palette colour. */
  shape: 'member' | 'brand' | 'aggregator'
  /** The face colour as #RRGGBB, when the card has one (brand and aggregator cards). */
  color?: string
  /** How the spec names the colour (`#1E88E5`, `Color010`), for the text label beside the face. */
  colorLabel?: string
  /** The big picture: the background (member, aggregator) or the card picture (brand). */
  picture?: ImageSlot
  logo?: ImageSlot
  title: string
  brandName?: string
  /** The member code, in words (`QR code`). */
  code?: string
  /** The level a new member starts at, when the card shows levels. */
  level?: string
  /** Entries of the card page, in the order the card shows them. */
  entries: FaceEntry[]
}

export interface FaceEntry {
  /** The card's own word for it (积分, 储值 …). */
  label: string
  /** What the spec says about it: a label, a price, a text. */
  detail?: string
}

/** Where the pixels of an image come from: a local file (a spec's `{file: …}`) or a URL. */
export type ImageSource = {file: ImageFile} | {url: string}

export interface ImageSlot {
  /** Dotted spec path of the field (`logo_url`). */
  path: string
  source: ImageSource
}

/** A key that names one image however many faces show it: local files by path, URLs by themselves. */
export function imageKey(source: ImageSource): string {
  return 'file' in source ? `file:${source.file.file}` : `url:${source.url}`
}

/**
 * The legacy card palette (Color010 … Color100) of the aggregator family, as WeChat Pay documents it for card and
 * coupon background colours (pay.weixin.qq.com apiv3 marketing convention, 优惠券背景色).
 */
export const LEGACY_PALETTE: Readonly<Record<string, string>> = {
  Color010: '#63B359',
  Color020: '#2C9F67',
  Color030: '#509FC9',
  Color040: '#5885CF',
  Color050: '#9062C0',
  Color060: '#D09A45',
  Color070: '#E4B138',
  Color080: '#EE903C',
  Color090: '#DD6549',
  Color100: '#CC463D',
}

const CODE_WORDS: Readonly<Record<string, string>> = {
  // membercard-open
  BAR_CODE: 'bar code (条形码)',
  QRCODE: 'QR code (二维码)',
  BAR_CODE_AND_QRCODE: 'bar code and QR code',
  NONE_CODE: 'no code',
  // brand partner
  QR_CODE: 'QR code (二维码)',
  BAR_CODE_AND_QR_CODE: 'bar code and QR code',
  JUMP_MINI_PROGRAM: 'opens a mini-program',
  // aggregator
  CODE_TYPE_TEXT: 'code as text',
  CODE_TYPE_BARCODE: 'bar code (条形码)',
  CODE_TYPE_QRCODE: 'QR code (二维码)',
  CODE_TYPE_ONLY_QRCODE: 'QR code only',
  CODE_TYPE_ONLY_BARCODE: 'bar code only',
  CODE_TYPE_NONE: 'no code',
}

/**
 * The face of a card of `kind` described by `spec`. `images` names the fields the spec takes from local files (the
 * desired side); elsewhere an image field holds a URL. Undefined for a kind this renderer does not know.
 */
export function cardFace(kind: string, spec: Record<string, unknown>, images: Readonly<Record<string, ImageFile>> = {}): CardFace | undefined {
  const slot = (path: string): ImageSlot | undefined => {
    const file = images[path]
    if (file) return {path, source: {file}}
    const url = get(spec, path)
    return typeof url === 'string' && url !== '' ? {path, source: {url}} : undefined
  }
  const code = (v: unknown) => (typeof v === 'string' ? (CODE_WORDS[v] ?? v) : undefined)
  switch (kind) {
    case 'MemberCard': {
      const entries: FaceEntry[] = []
      if (get(spec, 'rights.show_bonus') === true) entries.push(entry('积分 points', get(spec, 'rights.bonus.bonus_value_word')))
      if (get(spec, 'balance_information.need_balance') === true) entries.push({label: '储值 balance'})
      if (get(spec, 'rights.show_favor') === true) entries.push(entry('优惠 offers', get(spec, 'rights.favor.favor_module_title') ?? get(spec, 'rights.favor.member_price_word')))
      if (get(spec, 'rights.show_fapiao') === true) entries.push(entry('发票 invoices', get(spec, 'rights.fapiao.fapiao_jump_word')))
      if (get(spec, 'rights.show_guide') === true) entries.push(entry('客服 customer service', get(spec, 'rights.guide.staff_name')))
      if (typeof spec.service_phone === 'string') entries.push(entry('客服电话 phone', spec.service_phone))
      return compact<CardFace>({
        kind,
        shape: 'member',
        picture: slot('background_picture_url'),
        logo: slot('logo_url'),
        title: text(spec.title),
        brandName: optionalText(get(spec, 'brand.display_name')),
        code: code(spec.code_type),
        level: spec.need_display_level === true ? optionalText(spec.init_level) : undefined,
        entries,
      })
    }
    case 'BrandMemberCard': {
      const entries: FaceEntry[] = []
      if (isObject(spec.member_information)) entries.push({label: '会员信息 member information'})
      if (isObject(spec.points_information)) entries.push({label: '积分 points'})
      if (isObject(spec.balance_information)) entries.push({label: '储值 balance'})
      const price = get(spec, 'purchase_information.price')
      if (typeof price === 'number') entries.push({label: '付费会员 paid membership', detail: `¥${(price / 100).toFixed(2)}`})
      if (typeof spec.benefits === 'string') entries.push({label: '权益 benefits', detail: spec.benefits})
      if (typeof spec.service_phone === 'string') entries.push(entry('客服电话 phone', spec.service_phone))
      const color = typeof spec.card_color === 'string' ? spec.card_color : undefined
      return compact<CardFace>({
        kind,
        shape: 'brand',
        color: color !== undefined && HEX.test(color) ? color.toUpperCase() : undefined,
        colorLabel: color,
        picture: slot('card_picture_url'),
        title: text(spec.card_title),
        code: code(spec.code_type),
        level: spec.need_display_level === true ? optionalText(spec.init_level) : undefined,
        entries,
      })
    }
    case 'AggregatorMemberCard': {
      const entries: FaceEntry[] = []
      if (spec.supply_bonus === 1) entries.push({label: '积分 points'})
      if (spec.supply_balance === 1) entries.push({label: '储值 balance'})
      if (typeof spec.discount === 'number' && spec.discount > 0) entries.push({label: '折扣 discount', detail: `${spec.discount}% off`})
      if (typeof spec.prerogative === 'string') entries.push({label: '特权 privileges', detail: spec.prerogative})
      if (typeof get(spec, 'custom_cell1.name') === 'string') entries.push(entry(text(get(spec, 'custom_cell1.name')), get(spec, 'custom_cell1.tips')))
      if (typeof spec.custom_url_name === 'string') entries.push(entry(spec.custom_url_name, spec.custom_url_sub_title))
      if (typeof spec.promotion_url_name === 'string') entries.push({label: spec.promotion_url_name})
      const label = typeof spec.color === 'string' ? spec.color : undefined
      return compact<CardFace>({
        kind,
        shape: 'aggregator',
        color: label !== undefined ? LEGACY_PALETTE[label] : undefined,
        colorLabel: label,
        picture: slot('background_pic_url'),
        logo: slot('logo_url'),
        title: text(spec.title),
        brandName: optionalText(spec.brand_name),
        code: code(spec.code_type),
        entries,
      })
    }
    default:
      return undefined
  }
}

/** Every image a face shows. */
export function faceImages(face: CardFace | undefined): ImageSlot[] {
  return face ? [face.picture, face.logo].filter((s): s is ImageSlot => s !== undefined) : []
}

const HEX = /^#[0-9A-Fa-f]{6}$/

function get(o: unknown, dotted: string): unknown {
  let v = o
  for (const k of dotted.split('.')) {
    if (!isObject(v)) return undefined
    v = v[k]
  }
  return v
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function text(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined ? '' : JSON.stringify(v)
}

function optionalText(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined
}

function entry(label: string, detail: unknown): FaceEntry {
  return typeof detail === 'string' && detail !== '' ? {label, detail} : {label}
}

/** Drop the undefined properties (exactOptionalPropertyTypes). */
function compact<T extends object>(o: {[K in keyof T]: T[K] | undefined}): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T
}
