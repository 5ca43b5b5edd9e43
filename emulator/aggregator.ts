import {ApiError} from './errors.js'
import {createCardId} from './random.js'
import {formatTime} from './time.js'
import {canonicalJson, type HandlerEnv} from './handler.js'
import {enumOf, int, obj, str, validate, type Rule} from './validate.js'

/**
 * The aggregator's legacy create route (seed 000): POST /api/customer/user/userCreateMemberCard.
 *
 * Invented where seed 000 is silent (EMULATOR.md "Aggregator"): authentication (`Authorization: Bearer <token>`), the
 * error envelope `{status: 0, message, data: null}` (HTTP 200 for rule failures, 401 for a bad token), and
 * idempotency (none: the seed names no request number, so every call creates a card).
 */

export const AGGREGATOR_PATH = '/api/customer/user/userCreateMemberCard'

const flag = (label: string) => int(label, 0, 1)
const any = (label: string): Rule => ({kind: 'any', label})
/** "Color010-Color100" (seed 000): the legacy palette names, Color010 … Color100. */
const COLOR = /^Color(0[1-9]\d|100)$/
const BUSINESS_SERVICES = ['BIZ_SERVICE_DELIVER', 'BIZ_SERVICE_FREE_PARK', 'BIZ_SERVICE_WITH_PET', 'BIZ_SERVICE_FREE_WIFI']

/** Seed 000's field list: `*` = required, `int:` = integer, `json:` = JSON structure; limits from the descriptions. */
const createRule = obj(
  '会员卡',
  {
    store_id: str('门店id'),
    terminal_type: enumOf('创建类型', ['weChat', 'aliPay']),
    logo_url: str('券的商户logo'),
    brand_name: str('商户名字', 12),
    code_type: enumOf('Code展示类型', [
      'CODE_TYPE_TEXT',
      'CODE_TYPE_BARCODE',
      'CODE_TYPE_QRCODE',
      'CODE_TYPE_ONLY_QRCODE',
      'CODE_TYPE_ONLY_BARCODE',
      'CODE_TYPE_NONE',
    ]),
    title: str('卡券名', 9),
    color: str('券颜色', undefined, {pattern: COLOR, patternHint: '应为 Color010 至 Color100'}),
    notice: str('卡券使用提醒', 16),
    description: str('卡券使用说明', 1024),
    type: enumOf('使用时间的类型', ['DATE_TYPE_FIX_TERM', 'DATE_TYPE_FIX_TIME_RANGE', 'DATE_TYPE_PERMANENT']),
    // "不支持填写0,上限为100000000"
    quantity: int('卡券库存的数量', 1, 100_000_000),
    supply_bonus: flag('是否显示积分'),
    supply_balance: flag('是否支持储值'),
    prerogative: str('会员卡特权说明', 1024),
    background_pic_url: str('商家自定义会员卡背景图'),
    service_phone: str('客服电话'),
    get_limit: int('每人可领券的数量限制', 1),
    location_id_list_lon: str('门店位置经度'),
    location_id_list_lat: str('门店位置纬度'),
    custom_url_name: str('自定义跳转外链的入口名字'),
    custom_url: str('自定义跳转的URL'),
    custom_url_sub_title: str('显示在入口右侧的提示语'),
    promotion_url_name: str('营销场景的自定义入口名称'),
    promotion_url: str('入口跳转外链的地址链接'),
    accept_category: str('指定可用的商品类目'),
    reject_category: str('指定不可用的商品类目'),
    can_use_with_other_discount: flag('可以与其他类型共享门槛'),
    abstract: str('封面摘要简介', 8),
    icon_url_list: str('封面图片列表'),
    text_image_list: any('图文列表'),
    time_limit: any('使用时段限制'),
    business_service: str('商家服务类型', undefined, {
      pattern: new RegExp(`^(${BUSINESS_SERVICES.join('|')})(,(${BUSINESS_SERVICES.join('|')}))*$`),
      patternHint: `应为 ${BUSINESS_SERVICES.join(', ')} 中的一个或多个,用,隔开`,
    }),
    auto_activate: flag('自动激活'),
    name_type: enumOf('会员信息类目半自定义名称', [
      'FIELD_NAME_TYPE_LEVEL',
      'FIELD_NAME_TYPE_COUPON',
      'FIELD_NAME_TYPE_STAMP',
      'FIELD_NAME_TYPE_DISCOUNT',
      'FIELD_NAME_TYPE_ACHIEVEMEN',
      'FIELD_NAME_TYPE_MILEAGE',
      'FIELD_NAME_TYPE_SET_POINTS',
      'FIELD_NAME_TYPE_TIMS',
    ]),
    url: str('会员信息类目自定义名称'),
    activate_url: str('激活会员卡的url'),
    custom_cell1: any('自定义会员信息类目'),
    cost_money_unit: int('消费金额', 0),
    increase_bonus: int('对应增加的积分', 0),
    max_increase_bonus: int('用户单次可获取的积分上限', 0),
    init_increase_bonus: int('初始设置积分', 0),
    cost_bonus_unit: int('每使用X积分', 0),
    reduce_money: int('抵扣xx元', 0),
    least_money_to_use_bonus: int('抵扣条件', 0),
    max_reduce_bonus: int('单笔最多使用xx积分', 0),
    discount: int('折扣', 0, 100),
  },
  [
    'store_id',
    'terminal_type',
    'logo_url',
    'brand_name',
    'code_type',
    'title',
    'color',
    'notice',
    'description',
    'type',
    'quantity',
    'supply_bonus',
    'supply_balance',
    'prerogative',
  ],
)

export interface AggregatorReply {
  httpStatus: number
  body: Record<string, unknown>
}

export function aggregatorError(httpStatus: number, message: string): AggregatorReply {
  return {httpStatus, body: {status: 0, message, data: null}}
}

/**
 * Create a card. The success body is seed 000's `{status:1, message:"ok", data:{errcode:0, errmsg:"ok", card_id}}`
 * (the seed prints `data` as a malformed array `[ "errcode":0, … ]`; an object is the only valid JSON reading).
 */
export function createAggregatorCard(body: unknown, owner: string, env: HandlerEnv, now: number): AggregatorReply {
  try {
    validate(body, createRule)
  } catch (error) {
    if (error instanceof ApiError) return aggregatorError(200, error.message)
    throw error
  }
  const record = env.store.insert({
    family: 'aggregator',
    card_id: createCardId(env.random, (id) => env.store.get(id) !== undefined),
    owner_mchid: owner,
    card: {...structuredClone(body as Record<string, unknown>), create_time: formatTime(now)},
    create_body: canonicalJson(body),
  })
  record.card = {card_id: record.card_id, ...record.card}
  return {httpStatus: 200, body: {status: 1, message: 'ok', data: {errcode: 0, errmsg: 'ok', card_id: record.card_id}}}
}
