import {ApiError, invalidRequest} from './errors.js'
import {createCardId} from './random.js'
import {formatTime} from './time.js'
import {arr, bool, enumOf, int, obj, str, validate, type Rule} from './validate.js'
import {
  asObject,
  canonicalJson,
  findOwnCard,
  findRetry,
  queryInt,
  requiredQuery,
  type ApiReply,
  type ApiRequest,
  type HandlerEnv,
} from './handler.js'
import {checkCodeModeChange, checkDateInformation, checkDisplayLevel, checkImmutable} from './common-rules.js'
import type {CardRecord} from './store.js'

/**
 * The brand partner card-member family: /v3/brand/partner/card-member/cards. Sources: reference §1b and §5, seed 002
 * (create page, PWX 4015336970), openapi brand/partner/card-member/*.yaml.
 */

const FAMILY = 'brand'

const CARD_TYPES = ['PURCHASE', 'NORMAL', 'BALANCE'] as const
const CODE_MODES = ['SYSTEM_ALLOCATE', 'MERCHANT_ALLOCATE'] as const
const CODE_TYPES = ['NONE_CODE', 'BAR_CODE', 'QR_CODE', 'BAR_CODE_AND_QR_CODE', 'JUMP_MINI_PROGRAM'] as const
const DATE_TYPES = ['FIX_TIME_RANGE', 'FIX_TERM', 'PERMANENT'] as const
const STATES = ['CARD_EFFECTIVE', 'CARD_INVALID'] as const
// No USER_FORM_FLAG_MOBILE in this family (seed 002 Java enum, openapi).
const COMMON_FIELDS = [
  'USER_FORM_FLAG_SEX',
  'USER_FORM_FLAG_NAME',
  'USER_FORM_FLAG_BIRTHDAY',
  'USER_FORM_FLAG_ADDRESS',
  'USER_FORM_FLAG_EMAIL',
  'USER_FORM_FLAG_CITY',
] as const

const jump = (label: string) =>
  obj(label, {jump_appid: str(`${label}跳转AppID`, 32), jump_path: str(`${label}跳转路径`, 128)})

const editable: Record<string, Rule> = {
  card_title: str('卡名称', 10),
  card_color: str('卡背景颜色', 7, {pattern: /^#[0-9A-Fa-f]{6}$/, patternHint: '应为十六进制RGB颜色,例如 #FFFF00'}),
  card_picture_url: str('卡图片', 256),
  code_jump_information: jump('会员码'),
  benefits: str('会员权益', 32),
  notify_url: str('回调地址', 256),
  need_pinned: bool('是否置顶'),
  need_display_level: bool('是否展示会员等级'),
  init_level: str('会员初始等级', 10),
  service_phone: str('服务电话', 32),
  legal_agreement: str('商家法务协议', 2048),
  valid_date_information: obj(
    '会员卡有效期',
    {
      type: enumOf('有效期类型', DATE_TYPES),
      available_begin_time: str('有效期开始时间', 32, {format: 'rfc3339'}),
      available_end_time: str('有效期结束时间', 32, {format: 'rfc3339'}),
      // "最长不超过30年(10958 天)" (seed 002).
      available_day_after_receive: int('领取后N天内有效', 1, 10958),
    },
    ['type'],
  ),
  member_information: jump('会员中心'),
  points_information: jump('积分'),
  balance_information: jump('储值'),
  purchase_information: obj('付费会员信息', {
    price: int('付费会员价格', 0),
    jump_appid: str('付费会员跳转AppID', 32),
    jump_path: str('付费会员跳转路径', 128),
  }),
  user_information: obj('用户开卡信息', {
    common_field_list: arr('平台提供的通用开卡信息字段', enumOf('平台提供的通用开卡信息字段', COMMON_FIELDS)),
    // "当前最多只允许传入1项" (seed 002).
    custom_field_list: arr(
      '商家自定义的开卡信息字段',
      obj('商家自定义的开卡信息字段', {
        type: enumOf('商户自定义的开卡信息字段类型', ['CHECK_BOX', 'RADIO']),
        name: str('字段名称'),
        values: arr('字段值', str('字段值')),
      }),
      1,
    ),
  }),
}

const outRequestNo = str('商家请求单号', 128, {
  pattern: /^[0-9A-Za-z_-]+$/,
  patternHint: '字符仅允许包含英文半角的数字、字母、连接线-和下划线_',
})

const createRule = obj(
  '会员卡模板',
  {
    ...editable,
    out_request_no: outRequestNo,
    brand_id: str('品牌ID', 32),
    appid: str('商家AppID', 32),
    card_type: enumOf('会员卡类型', CARD_TYPES),
    code_mode: enumOf('会员卡code分配类型', CODE_MODES),
    code_type: enumOf('会员码型', CODE_TYPES),
  },
  // Seed 002 marks member_information 必填; openapi omits it and out_request_no from `required` (we follow the seed).
  [
    'out_request_no',
    'brand_id',
    'appid',
    'card_type',
    'card_title',
    'card_color',
    'card_picture_url',
    'code_mode',
    'code_type',
    'benefits',
    'notify_url',
    'valid_date_information',
    'member_information',
  ],
)

const patchRule = obj('会员卡模板', {...editable, brand_id: str('品牌ID', 32)}, ['brand_id'])

/** Absent from the PATCH schema, so immutable (reference §5 brand, inference); code_mode has its own messages. */
const IMMUTABLE = {appid: '商家AppID', card_type: '会员卡类型', code_type: '会员码型', out_request_no: '商家请求单号'}

/** "当会员码型为跳转商家小程序时,必填code_jump_information" (seed 002); the answer's wording is invented. */
function checkJump(card: Record<string, unknown>): void {
  if (card['code_type'] !== 'JUMP_MINI_PROGRAM') return
  const j = card['code_jump_information'] as Record<string, unknown> | undefined
  if (!j || !j['jump_appid'] || !j['jump_path']) {
    throw invalidRequest('code_type为JUMP_MINI_PROGRAM时,code_jump_information的jump_appid和jump_path不能为空')
  }
}

function checkCardRules(card: Record<string, unknown>): void {
  checkDisplayLevel(card)
  checkJump(card)
  checkDateInformation(card['valid_date_information'], 'valid_date_information')
}

/**
 * brand_id must name the card's brand. Decision (inference): 400 PARAM_ERROR "商户和品牌关系校验失败", the documented
 * message for a merchant/brand relation failure (seed 003 error table, written there as "PARAM ERROR").
 */
function checkBrand(record: CardRecord, brandId: unknown, location: 'query' | 'body'): void {
  if (brandId !== record.card['brand_id']) {
    throw new ApiError(400, 'PARAM_ERROR', '商户和品牌关系校验失败', {field: 'brand_id', location})
  }
}

/** Invalidate is one-way (reference §5 brand, inference): an invalid card takes no change and no second invalidate. */
function checkEffective(record: CardRecord): void {
  if (record.card['state'] === 'CARD_INVALID') throw invalidRequest('会员卡模板已作废,不支持该操作')
}

export function createBrandCard(req: ApiRequest, env: HandlerEnv): ApiReply {
  const body = asObject(req.body)
  validate(body, createRule)
  const retry = findRetry(env, FAMILY, req.mchid, body)
  if (retry) return {status: 200, body: retry.card}
  checkCardRules(body)
  const time = formatTime(req.now)
  const {out_request_no, ...rest} = structuredClone(body)
  // Key order of the documented response (seed 002 应答示例); need_pinned and need_display_level default to false
  // and are always returned ("默认为false", "在查询结果中会返回该字段").
  const card: Record<string, unknown> = {
    out_request_no,
    card_id: createCardId(env.random, (id) => env.store.get(id) !== undefined),
    ...rest,
    need_pinned: body['need_pinned'] ?? false,
    need_display_level: body['need_display_level'] ?? false,
    state: 'CARD_EFFECTIVE',
    create_time: time,
    // The seed says modify_time; the API says update_time (reference §1d).
    update_time: time,
  }
  const record = env.store.insert({family: FAMILY, card_id: card['card_id'] as string, owner_mchid: req.mchid, card, create_body: canonicalJson(body)})
  return {status: 200, body: record.card}
}

export function getBrandCard(req: ApiRequest, env: HandlerEnv): ApiReply {
  const brandId = requiredQuery(req.query, 'brand_id')
  const record = findOwnCard(req, env, FAMILY)
  checkBrand(record, brandId, 'query')
  return {status: 200, body: record.card}
}

export function listBrandCards(req: ApiRequest, env: HandlerEnv): ApiReply {
  const brandId = requiredQuery(req.query, 'brand_id')
  const state = req.query.get('state')
  if (state !== null && !(STATES as readonly string[]).includes(state)) {
    throw new ApiError(400, 'PARAM_ERROR', `输入源“/query/state”枚举规则校验失败,值“${state}”不在可选值 ${STATES.join('|')} 中`, {
      field: 'state',
      location: 'query',
    })
  }
  // A record offset here, unlike membercard-open's page index (reference §5). limit 1..20; its default is invented.
  const limit = queryInt(req.query, 'limit', 20, 1, 20)
  const offset = queryInt(req.query, 'offset', 0, 0)
  const matching = env.store
    .all()
    .filter((r) => r.family === FAMILY && r.owner_mchid === req.mchid && r.card['brand_id'] === brandId && (!state || r.card['state'] === state))
  return {status: 200, body: {data: matching.slice(offset, offset + limit).map((r) => r.card), total_count: matching.length, offset, limit}}
}

/** PATCH answers 200 with the whole card, unlike membercard-open's 204 (reference §1b). */
export function patchBrandCard(req: ApiRequest, env: HandlerEnv): ApiReply {
  const record = findOwnCard(req, env, FAMILY)
  const body = asObject(req.body)
  const patch = Object.fromEntries(Object.entries(body).filter(([k]) => !(k in IMMUTABLE) && k !== 'code_mode'))
  validate(patch, patchRule)
  checkBrand(record, patch['brand_id'], 'body')
  checkEffective(record)
  checkImmutable(body, record.card, IMMUTABLE, canonicalJson)
  checkCodeModeChange(record.card['code_mode'], body['code_mode'])
  // Only two modes here, so any other change is a change away from MERCHANT_ALLOCATE's only alternative.
  if ('code_mode' in body && body['code_mode'] !== record.card['code_mode']) throw invalidRequest('会员卡code分配类型不支持修改')
  const merged = {...record.card, ...structuredClone(patch)}
  checkCardRules(merged)
  merged['update_time'] = formatTime(req.now)
  record.card = merged
  env.store.touch(record)
  return {status: 200, body: record.card}
}

function invalidate(record: CardRecord, req: ApiRequest, env: HandlerEnv): ApiReply {
  checkEffective(record)
  record.card['state'] = 'CARD_INVALID'
  record.card['update_time'] = formatTime(req.now)
  env.store.touch(record)
  return {status: 200, body: record.card}
}

/** POST …/invalidate {brand_id}: 200 with the card, state CARD_INVALID (reference §1b, PWX 4015336972). */
export function invalidateBrandCard(req: ApiRequest, env: HandlerEnv): ApiReply {
  const record = findOwnCard(req, env, FAMILY)
  const body = asObject(req.body)
  validate(body, obj('作废会员卡模板', {brand_id: str('品牌ID', 32)}, ['brand_id']))
  checkBrand(record, body['brand_id'], 'body')
  return invalidate(record, req, env)
}

/**
 * DELETE …?brand_id=: kept only as an alias of invalidate (reference §1b: listed in openapi with 200 + card, but its
 * official doc id now points at invalidate). Decision documented in EMULATOR.md.
 */
export function deleteBrandCard(req: ApiRequest, env: HandlerEnv): ApiReply {
  const brandId = requiredQuery(req.query, 'brand_id')
  const record = findOwnCard(req, env, FAMILY)
  checkBrand(record, brandId, 'query')
  return invalidate(record, req, env)
}
