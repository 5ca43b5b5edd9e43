/** Valid request bodies for the emulator tests; `over` replaces top-level fields (undefined removes one). */

let counter = 0
export function membercardBody(over: Record<string, unknown> = {}): Record<string, unknown> {
  const body: Record<string, unknown> = {
    appid: 'wxea9c30890f48d5ae',
    logo_url: 'https://wxpaylogo.qpic.cn/wxpaylogo/xxxxx/0',
    brand: {brand_id: '1004', display_name: '微信支付'},
    title: '微信支付测试卡',
    background_picture_url: 'https://wxpaylogo.qpic.cn/wxpaylogo/xxxxx/0',
    description: '使用本会员卡表示你同意xxx公司的协议',
    code_type: 'BAR_CODE',
    date_information: {type: 'PERMANENT'},
    code_mode: 'SYSTEM_ALLOCATE',
    out_request_no: `mco-${Date.now()}-${++counter}`,
    ...over,
  }
  for (const [k, v] of Object.entries(over)) if (v === undefined) delete body[k]
  return body
}


/** The seed 002 create body (brand family) with a fresh out_request_no. */
export function brandBody(over: Record<string, unknown> = {}): Record<string, unknown> {
  const body: Record<string, unknown> = {
    out_request_no: `brand-${Date.now()}-${++counter}`,
    brand_id: '1004',
    appid: 'wxea9c30890f48d5ae',
    card_type: 'NORMAL',
    card_title: '测试卡',
    card_color: '#FFFF00',
    card_picture_url: 'https://wxpaylogo.qpic.cn/wxpaylogo/xxxxx/0',
    code_mode: 'SYSTEM_ALLOCATE',
    code_type: 'BAR_CODE',
    benefits: '会员折扣、专属价',
    notify_url: 'https://www.weixin.qq.com/wxpay/notify.php',
    valid_date_information: {type: 'PERMANENT'},
    member_information: {jump_appid: 'wxea9c30a90fs8d3fe', jump_path: '/pages/member/member'},
    ...over,
  }
  for (const [k, v] of Object.entries(over)) if (v === undefined) delete body[k]
  return body
}

/** A valid aggregator (seed 000) body: the `*` fields. */
export function aggregatorBody(over: Record<string, unknown> = {}): Record<string, unknown> {
  const body: Record<string, unknown> = {
    store_id: '1001',
    terminal_type: 'weChat',
    logo_url: 'http://mmbiz.qpic.cn/mmbiz/logo/0',
    brand_name: '测试商户',
    code_type: 'CODE_TYPE_QRCODE',
    title: '会员卡',
    color: 'Color010',
    notice: '使用时向服务员出示此券',
    description: '不可与其他优惠同享',
    type: 'DATE_TYPE_PERMANENT',
    quantity: 1000,
    supply_bonus: 1,
    supply_balance: 0,
    prerogative: '会员享受九折',
    ...over,
  }
  for (const [k, v] of Object.entries(over)) if (v === undefined) delete body[k]
  return body
}
