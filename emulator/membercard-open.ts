import {invalidRequest} from './errors.js'
import {createCardId} from './random.js'
import {formatTime} from './time.js'
import {arr, bool, enumOf, int, obj, str, validate, type Rule} from './validate.js'
import {
  asObject,
  canonicalJson,
  findOwnCard,
  findRetry,
  queryInt,
  type ApiReply,
  type ApiRequest,
  type HandlerEnv,
} from './handler.js'
import {checkCodeModeChange, checkDateInformation, checkDisplayLevel, checkImmutable} from './common-rules.js'
import type {CardRecord} from './store.js'
import {settleReview, submitForReview} from './review.js'

/**
 * The membercard-open family: /v3/marketing/membercard-open/cards. Sources: reference §1a (paths, 200 vs 204),
 * §5 (required fields, lengths, enums), openapi fragments membercard-open/*.yaml, seeds 001 and 003.
 */

const FAMILY = 'membercard-open'

const CODE_TYPES = ['BAR_CODE', 'QRCODE', 'BAR_CODE_AND_QRCODE', 'NONE_CODE'] as const
const CODE_MODES = ['SYSTEM_ALLOCATE', 'MERCHANT_DEPOSIT', 'REAL_TIME'] as const
const DATE_TYPES = ['FIX_TIME_RANGE', 'FIX_TERM', 'PERMANENT'] as const
const COMMON_FIELDS = [
  'USER_FORM_FLAG_MOBILE',
  'USER_FORM_FLAG_SEX',
  'USER_FORM_FLAG_NAME',
  'USER_FORM_FLAG_BIRTHDAY',
  'USER_FORM_FLAG_ADDRESS',
  'USER_FORM_FLAG_EMAIL',
  'USER_FORM_FLAG_CITY',
] as const
const CUSTOM_FIELD_TYPES = ['TEXT', 'SELECT', 'RADIO', 'CHECK_BOX'] as const

/** total_quantity "不填默认5000000" for SYSTEM_ALLOCATE (reference §5). */
export const DEFAULT_TOTAL_QUANTITY = 5_000_000

const dateInformation = obj(
  '有效期',
  {
    type: enumOf('有效期类型', DATE_TYPES),
    available_begin_time: str('有效期开始时间', 32, {format: 'rfc3339'}),
    available_end_time: str('有效期结束时间', 32, {format: 'rfc3339'}),
    available_day_after_receive: int('生效后N天内有效', 1),
    wait_days_after_receive: int('领取后N天开始生效', 0),
  },
  ['type'],
)

const balanceInformation = obj('储值信息', {
  need_balance: bool('是否支持储值'),
  balance_appid: str('储值小程序appid', 32),
  balance_path: str('储值小程序path'),
  balance_url: str('储值url'),
})

const customField = obj('商户自定义的开卡信息字段', {
  type: enumOf('商户自定义的开卡信息字段类型', CUSTOM_FIELD_TYPES),
  name: str('字段名称'),
  values: arr('字段值', str('字段值')),
})

const userInformationForm = (patch: boolean) =>
  obj('开卡信息', {
    ...(patch ? {can_modify_after_activate: bool('是否允许修改')} : {}),
    common_field_list: arr('平台提供的通用开卡信息字段', enumOf('平台提供的通用开卡信息字段', COMMON_FIELDS)),
    custom_field_list: arr('商户自定义的开卡信息字段', customField),
  })

const additionalStatement = obj('商户补充声明', {
  title: str('标题'),
  url: str('跳转url'),
  appid: str('跳转小程序appid', 32),
  path: str('跳转小程序path'),
})

/** Fields both create and PATCH accept, with the limits of reference §5. */
const editable = (patch: boolean): Record<string, Rule> => ({
  appid: str('商户AppId', 32),
  logo_url: str('会员卡logo', 128),
  title: str('卡名称', 10),
  background_picture_url: str('会员卡背景图', 128),
  description: str('使用须知', 500),
  service_phone: str('服务电话', 32),
  code_type: enumOf('会员码型', CODE_TYPES),
  total_quantity: int('会员卡总库存', 1),
  date_information: dateInformation,
  code_mode: enumOf('会员卡code分配类型', CODE_MODES),
  need_display_level: bool('是否展示会员等级'),
  init_level: str('会员初始等级', 5),
  balance_information: balanceInformation,
  user_information_form: userInformationForm(patch),
  additional_statement: additionalStatement,
  need_dynamic_code: bool('是否启用动态码'),
})

const createRule = obj(
  '会员卡',
  {
    ...editable(false),
    brand: obj('品牌信息', {brand_id: str('品牌id', 16), display_name: str('品牌展示名称')}, ['brand_id', 'display_name']),
    out_request_no: str('商户请求单号', 128),
  },
  ['appid', 'logo_url', 'brand', 'title', 'background_picture_url', 'description', 'code_type', 'date_information', 'code_mode', 'out_request_no'],
)

const patchRule = obj('会员卡', editable(true))

/** create-only fields: absent from the PATCH schema, so immutable (reference §5: "brand is immutable"). */
const IMMUTABLE = {brand: '品牌信息', out_request_no: '商户请求单号'}

const rightsRule = obj(
  '会员卡权益',
  {
    show_bonus: bool('是否展示会员积分'),
    show_favor: bool('是否展示会员优惠'),
    bonus: obj(
      '会员积分',
      {
        init_bonus: int('会员初始积分值', 0),
        bonus_value_word: str('积分值文案'),
        bonus_cost_title: str('积分价值项标题'),
        bonus_cost_word: str('积分价值项文案'),
        bonus_jump_word: str('积分跳转文案'),
        bonus_jump_appid: str('积分跳转appid', 32),
        bonus_jump_path: str('积分跳转path'),
        bonus_support_appid: str('自助积分跳转appid', 32),
        bonus_support_path: str('自助积分跳转path'),
      },
      ['init_bonus', 'bonus_value_word', 'bonus_cost_word'],
    ),
    favor: obj(
      '会员优惠',
      {
        show_coupon: bool('是否展示优惠券'),
        member_price_word: str('会员专享价文案'),
        member_price_appid: str('会员专享价跳转appid', 32),
        member_price_path: str('会员专享价跳转path'),
        member_price_title: enumOf('会员专享价标题', ['MEMBER_PRICE', 'MEMBER_ACTIVITY']),
        favor_module_title: enumOf('会员优惠栏目名称', ['FAVOR', 'VIP']),
      },
      ['show_coupon'],
    ),
    show_fapiao: bool('是否展示会员发票'),
    fapiao: obj('会员发票', {
      fapiao_jump_word: str('发票跳转文案'),
      fapiao_jump_appid: str('发票跳转AppID', 32),
      fapiao_jump_path: str('发票跳转path'),
    }),
    show_guide: bool('是否展示会员专属咨询'),
    guide: obj('会员专属咨询信息', {
      staff_name: str('联系人名字'),
      head_image_url: str('联系人头像'),
      contact_information_name: str('联系方式'),
      contact_information_value: str('联系信息值'),
      phone_number: str('联系电话'),
    }),
  },
  ['show_bonus', 'show_favor'],
)

/**
 * "储值小程序path为空" (seed 003 error table): checked when a mini-program appid is given without its path (the
 * condition is our inference; the message is documented).
 */
function checkBalance(card: Record<string, unknown>): void {
  const b = card['balance_information'] as Record<string, unknown> | undefined
  if (b && b['need_balance'] === true && b['balance_appid'] !== undefined && !b['balance_path']) {
    throw invalidRequest('储值小程序path为空')
  }
}

/** `requireBegin`: at create only; a PATCH may leave the begin time out (see carryBeginTime). */
function checkCardRules(card: Record<string, unknown>, requireBegin: boolean): void {
  checkDisplayLevel(card)
  checkDateInformation(card['date_information'], 'date_information', requireBegin)
  checkBalance(card)
}

/** Stock: remain_quantity follows total_quantity, since the emulator issues no codes to users. */
function stock(card: Record<string, unknown>): void {
  if (card['code_mode'] === 'SYSTEM_ALLOCATE') {
    card['total_quantity'] ??= DEFAULT_TOTAL_QUANTITY
    card['remain_quantity'] = card['total_quantity']
  } else {
    // MERCHANT_DEPOSIT draws from deposited codes and REAL_TIME has no stock: nothing deposited yet (inference).
    card['remain_quantity'] = 0
  }
}

/**
 * What GET and list return: the stored card without the fields the documented response (seed 001 GET table,
 * openapi MemberCard.yaml#Record) does not have. They are accepted on write and kept, but cannot be read back.
 */
export function presentMembercard(record: CardRecord): Record<string, unknown> {
  const {need_dynamic_code: _ndc, ...card} = record.card
  const date = card['date_information'] as Record<string, unknown> | undefined
  if (date && 'wait_days_after_receive' in date) {
    const {wait_days_after_receive: _w, ...rest} = date
    card['date_information'] = rest
  }
  const form = card['user_information_form'] as Record<string, unknown> | undefined
  if (form && 'can_modify_after_activate' in form) {
    const {can_modify_after_activate: _c, ...rest} = form
    card['user_information_form'] = rest
  }
  return card
}

/**
 * The PATCH page lists available_end_time but not available_begin_time (seed 001), and its example changes a
 * FIX_TIME_RANGE card sending only the end: the begin time is kept from the stored card when the patch omits it.
 */
function carryBeginTime(merged: Record<string, unknown>, stored: Record<string, unknown>): void {
  const next = merged['date_information'] as Record<string, unknown> | undefined
  const prev = stored['date_information'] as Record<string, unknown> | undefined
  if (next?.['type'] === 'FIX_TIME_RANGE' && next['available_begin_time'] === undefined && prev?.['available_begin_time'] !== undefined) {
    merged['date_information'] = {...next, available_begin_time: prev['available_begin_time']}
  }
}

function notDeleted(record: CardRecord): void {
  // Invented message: the docs say a deleted card "将无法通过任何渠道再投放", not what a later change answers.
  if (record.card['status'] === 'DELETED') throw invalidRequest('会员卡已删除,不支持该操作')
}

export function createMembercard(req: ApiRequest, env: HandlerEnv): ApiReply {
  const body = asObject(req.body)
  validate(body, createRule)
  const retry = findRetry(env, FAMILY, req.mchid, body)
  if (retry) return {status: 200, body: presentMembercard(look(retry, req, env))}
  checkCardRules(body, true)
  const time = formatTime(req.now)
  const card: Record<string, unknown> = {
    card_id: createCardId(env.random, (id) => env.store.get(id) !== undefined),
    create_time: time,
    update_time: time,
    // Set by submitForReview below: NOT_APPROVE until reviewed, or APPROVED at once (review.ts).
    status: 'NOT_APPROVE',
    ...structuredClone(body),
  }
  stock(card)
  const submitted: Pick<CardRecord, 'card' | 'review'> = {card}
  submitForReview(submitted, req.now, env.reviewDelay)
  const record = env.store.insert({
    family: FAMILY,
    card_id: card['card_id'] as string,
    owner_mchid: req.mchid,
    card,
    ...(submitted.review ? {review: submitted.review} : {}),
    create_body: canonicalJson(body),
  })
  return {status: 200, body: presentMembercard(record)}
}

/** A card about to be shown: a pending review whose delay ran out is approved first (and persisted). */
function look(record: CardRecord, req: ApiRequest, env: HandlerEnv): CardRecord {
  if (settleReview(record, req.now)) env.store.touch(record)
  return record
}

export function getMembercard(req: ApiRequest, env: HandlerEnv): ApiReply {
  return {status: 200, body: presentMembercard(look(findOwnCard(req, env, FAMILY), req, env))}
}

export function listMembercards(req: ApiRequest, env: HandlerEnv): ApiReply {
  const limit = queryInt(req.query, 'limit', undefined, 1, 20)
  // offset is a PAGE index starting at 0 ("分页页码,页码从0开始", reference §5).
  const offset = queryInt(req.query, 'offset', 0, 0)
  const brandId = req.query.get('brand_id')
  const appid = req.query.get('appid')
  const matching = env.store.all().filter(
    (r) =>
      r.family === FAMILY &&
      r.owner_mchid === req.mchid &&
      (!brandId || (r.card['brand'] as Record<string, unknown>)['brand_id'] === brandId) &&
      (!appid || r.card['appid'] === appid),
  )
  const data = matching.slice(offset * limit, offset * limit + limit).map((r) => presentMembercard(look(r, req, env)))
  return {status: 200, body: {data, total_count: matching.length, offset, limit}}
}

export function patchMembercard(req: ApiRequest, env: HandlerEnv): ApiReply {
  const record = findOwnCard(req, env, FAMILY)
  notDeleted(record)
  const body = asObject(req.body)
  checkImmutable(body, record.card, IMMUTABLE, canonicalJson)
  const patch = Object.fromEntries(Object.entries(body).filter(([k]) => !(k in IMMUTABLE)))
  validate(patch, patchRule)
  checkCodeModeChange(record.card['code_mode'], patch['code_mode'])
  const before = record.card['balance_information'] as Record<string, unknown> | undefined
  const after = patch['balance_information'] as Record<string, unknown> | undefined
  // One-way (seed 003 error table; reference §1d marks the message unverified in public sources).
  if (before?.['need_balance'] === true && after !== undefined && after['need_balance'] !== true) {
    throw invalidRequest('会员储值一旦展示无法关闭')
  }
  const merged = {...record.card, ...structuredClone(patch)}
  carryBeginTime(merged, record.card)
  checkCardRules(merged, false)
  merged['update_time'] = formatTime(req.now)
  stock(merged)
  record.card = merged
  // An edited template goes back to review (the issue's reading of the status enum; review.ts).
  submitForReview(record, req.now, env.reviewDelay)
  env.store.touch(record)
  return {status: 204}
}

/**
 * DELETE answers 204 and the card stays readable with status DELETED (the status enum has "DELETED 卡被商户删除",
 * openapi Enumerations; inference that GET still finds it). A second DELETE is refused like any change.
 */
export function deleteMembercard(req: ApiRequest, env: HandlerEnv): ApiReply {
  const record = findOwnCard(req, env, FAMILY)
  notDeleted(record)
  record.card['status'] = 'DELETED'
  record.card['update_time'] = formatTime(req.now)
  env.store.touch(record)
  return {status: 204}
}

/**
 * PATCH …/rights: a full replacement of the rights block (show_bonus and show_favor are required). Stored on the
 * record, never returned by GET (no read API for template rights is documented).
 */
export function setMembercardRights(req: ApiRequest, env: HandlerEnv): ApiReply {
  const record = findOwnCard(req, env, FAMILY)
  notDeleted(record)
  const body = asObject(req.body)
  validate(body, rightsRule)
  const old = record.rights
  // One-way (seed 003 error table: "会员权益一旦展示无法关闭"; unverified in public sources, reference §1d).
  if ((old?.['show_bonus'] === true && body['show_bonus'] === false) || (old?.['show_favor'] === true && body['show_favor'] === false)) {
    throw invalidRequest('会员权益一旦展示无法关闭')
  }
  // Documented messages (seed 003 error table); the conditions (appid given, path missing) are inference.
  const bonus = body['bonus'] as Record<string, unknown> | undefined
  if (bonus?.['bonus_jump_appid'] !== undefined && !bonus['bonus_jump_path']) throw invalidRequest('积分跳转path为空')
  if (bonus?.['bonus_support_appid'] !== undefined && !bonus['bonus_support_path']) throw invalidRequest('自助积分跳转path为空')
  const favor = body['favor'] as Record<string, unknown> | undefined
  if (favor?.['member_price_appid'] !== undefined && !favor['member_price_path']) throw invalidRequest('会员专享价跳转path为空')
  record.rights = structuredClone(body)
  record.card['update_time'] = formatTime(req.now)
  env.store.touch(record)
  return {status: 204}
}

