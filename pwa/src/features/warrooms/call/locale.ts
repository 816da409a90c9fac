// Strings of the room's call, shared stage and expert booking, merged into the war-room catalog as
// `warRoom.call`.
export const callZh = {
  start: '发起语音连线',
  join: '加入通话（{n} 人）',
  joining: '正在接通…',
  leave: '挂断',
  mute: '静音',
  unmute: '取消静音',
  speaker: '声音输出',
  inCall: '通话中 {length}',
  going: '{who} 等 {n} 人正在通话',
  ringing: '{who} 发起了语音连线',
  muted: '已静音',
  me: '我',
  weak: '网络较弱，已切换为低码率语音',
  chatOnly: '网络太差，已转为文字沟通（仍在作战室内）',
  restore: '恢复语音',
  full: '通话已满（最多 4 人）',
  micDenied: '无法使用麦克风，请在浏览器设置中允许',
  notJoined: '正在进入作战室，请稍候再试',
  line: {
    started: '{who} 发起了语音连线',
    ended: '语音连线结束：{names}，时长 {length}',
    booked: '{who} 预约了专家 {name}（{at}）',
  },
  stage: {
    share: '共享展台',
    title: '共享展台 · {who}',
    following: '跟随 {who} 翻页',
    prev: '上一页',
    next: '下一页',
    page: '{n} / {total}',
    stop: '停止共享',
    download: '下载',
    noDownload: '仅可查看，不可下载',
    allowDownload: '允许成员下载',
    pick: '选择要共享的内容',
    product: '产品',
    customer: '客户名片',
    calculator: '测算结果',
    pdf: 'PDF 方案',
    pdfPick: '选择 PDF 方案书',
    pdfHint: '700 KB 以内；成员只能在展台上查看，除非你允许下载',
    pdfTooLarge: 'PDF 太大（最多 700 KB）',
    pdfUnreadable: '无法打开这个 PDF',
    shareIt: '上台展示',
    loan: {
      amount: '贷款金额（万元）',
      rate: '年利率（%）',
      months: '期限（月）',
      monthly: '月供（元）',
      total: '利息合计（元）',
    },
    notPresenter: '只有展示人可以翻页',
    changed: '展台内容已更换',
  },
  expert: {
    book: '预约专家',
    title: '预约远程专家',
    none: '我的可用资源里暂无可预约的专家',
    free: '空闲时段',
    noSlots: '近 5 个工作日已约满',
    confirm: '预约 {name} {at} 的远程连线？预约后将邀请其以远程专家身份加入作战室，并在开始前提醒双方。',
    booked: '已预约，并已邀请 {name}',
    taken: '该时段刚被预约，请另选',
  },
}

/** 83 s -> "1:23"; an hour or more -> "1:02:03". */
export function formatLength(seconds: number): string {
  const s = Math.max(0, Math.round(seconds))
  const two = (n: number) => String(n).padStart(2, '0')
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  return h ? `${h}:${two(m)}:${two(s % 60)}` : `${m}:${two(s % 60)}`
}

