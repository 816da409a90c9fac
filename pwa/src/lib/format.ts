// The one place that turns amounts and instants into text. Amounts arrive in cents (分); instants as
// ISO 8601 UTC from the server and are shown in the *user's* zone (from the session, Asia/Shanghai
// by default), never the device's, so a phone set to another zone still shows the bank's times.
import { reactive } from 'vue'

export const formatConfig = reactive({ zone: 'Asia/Shanghai', locale: 'zh-CN' })

/** The formatter behind zoneParts, one per zone (the first one of a page costs the most). */
const partsFormats = new Map<string, Intl.DateTimeFormat>()
function partsFormat(zone: string): Intl.DateTimeFormat {
  let found = partsFormats.get(zone)
  if (!found) {
    found = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      hourCycle: 'h23',
    })
    partsFormats.set(zone, found)
  }
  return found
}

export function setDisplayZone(zone: string | null | undefined): void {
  if (!zone) return
  try {
    partsFormat(zone) // throws a RangeError for an unknown zone
    formatConfig.zone = zone
  } catch {
    /* an unknown zone keeps the previous one */
  }
}

/** A time zone's name in the reader's language ('Asia/Shanghai' → 中国标准时间 / China Standard Time). */
export function zoneName(zone: string | null | undefined = formatConfig.zone): string {
  if (!zone) return ''
  try {
    const parts = new Intl.DateTimeFormat(formatConfig.locale, { timeZone: zone, timeZoneName: 'long' }).formatToParts(new Date())
    return parts.find((part) => part.type === 'timeZoneName')?.value ?? zone
  } catch {
    return zone
  }
}

export function setFormatLocale(locale: string): void {
  formatConfig.locale = locale
}

const isZh = () => formatConfig.locale.startsWith('zh')

// ---- money --------------------------------------------------------------------------------------

/** A readable amount: 8,500元 · 12.35万元 · 3.2亿元 (en: ¥8,500 · ¥123.5K · ¥320M). */
export function money(cents: number | null | undefined): string {
  if (cents === null || cents === undefined || Number.isNaN(cents)) return '—'
  const value = cents / 100
  const compact = Math.abs(value) >= 10_000
  const text = new Intl.NumberFormat(formatConfig.locale, {
    notation: compact ? 'compact' : 'standard',
    maximumFractionDigits: compact ? 2 : 0,
  }).format(value)
  return isZh() ? `${text}元` : `¥${text}`
}

/** A plain number in the reader's language: 1,234.5 (ten-thousands: 万 are the caller's). */
export function plainNumber(value: number | null | undefined, maximumFractionDigits = 1): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '—'
  return new Intl.NumberFormat(formatConfig.locale, { maximumFractionDigits }).format(value)
}

/** A short amount for chart axes: 12.3万 · 8500 (en: 123K). */
export function shortMoney(cents: number | null | undefined): string {
  if (cents === null || cents === undefined || Number.isNaN(cents)) return '—'
  return new Intl.NumberFormat(formatConfig.locale, { notation: 'compact', maximumFractionDigits: 1 }).format(cents / 100)
}

/** An exact amount with fen: 1,234.56 (for statements and benefit splits). */
export function exactMoney(cents: number | null | undefined): string {
  if (cents === null || cents === undefined || Number.isNaN(cents)) return '—'
  const text = (cents / 100).toLocaleString(formatConfig.locale, { minimumFractionDigits: 2, maximumFractionDigits: 2 })
  return isZh() ? `${text}元` : `¥${text}`
}

export function percent(ratio: number | null | undefined, digits = 0): string {
  if (ratio === null || ratio === undefined || Number.isNaN(ratio)) return '—'
  return `${(ratio * 100).toFixed(digits)}%`
}

// ---- time ---------------------------------------------------------------------------------------

type Instant = string | number | Date | null | undefined

function toDate(value: Instant): Date | null {
  if (value === null || value === undefined || value === '') return null
  const date = value instanceof Date ? value : new Date(value)
  return Number.isNaN(date.getTime()) ? null : date
}

const cache = new Map<string, Intl.DateTimeFormat>()
function fmt(options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${formatConfig.locale}|${formatConfig.zone}|${JSON.stringify(options)}`
  let found = cache.get(key)
  if (!found) {
    found = new Intl.DateTimeFormat(formatConfig.locale, { timeZone: formatConfig.zone, hourCycle: 'h23', ...options })
    cache.set(key, found)
  }
  return found
}

/** The wall-clock parts of an instant in the user's zone. */
export function zoneParts(value: Instant): { year: number; month: number; day: number; hour: number; minute: number } | null {
  const date = toDate(value)
  if (!date) return null
  const parts = partsFormat(formatConfig.zone).formatToParts(date)
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0)
  return { year: get('year'), month: get('month'), day: get('day'), hour: get('hour') % 24, minute: get('minute') }
}

const pad = (n: number) => String(n).padStart(2, '0')

/** YYYY-MM-DD of the instant in the user's zone: "today" is the user's day, never the UTC day. */
export function dayKey(value: Instant = Date.now()): string {
  const p = zoneParts(value)
  return p ? `${p.year}-${pad(p.month)}-${pad(p.day)}` : ''
}

export function isToday(value: Instant, now: Instant = Date.now()): boolean {
  return !!toDate(value) && dayKey(value) === dayKey(now)
}

/** 12月5日 07:30 (with the year when it is not this year). */
export function dateTime(value: Instant): string {
  const date = toDate(value)
  if (!date) return ''
  const sameYear = zoneParts(date)?.year === zoneParts(Date.now())?.year
  return fmt({
    year: sameYear ? undefined : 'numeric',
    month: isZh() ? 'long' : 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  }).format(date)
}

/** 2026年12月5日 */
export function dateOnly(value: Instant): string {
  const date = toDate(value)
  return date ? fmt({ year: 'numeric', month: isZh() ? 'long' : 'short', day: 'numeric' }).format(date) : ''
}

/** 07:30 */
export function timeOnly(value: Instant): string {
  const date = toDate(value)
  return date ? fmt({ hour: '2-digit', minute: '2-digit' }).format(date) : ''
}

/** 12/7 周一 10:30: a slot's start with its weekday, short for a 375 px row. */
export function slotTime(value: Instant): string {
  const date = toDate(value)
  return date ? fmt({ month: 'numeric', day: 'numeric', weekday: 'short', hour: '2-digit', minute: '2-digit' }).format(date) : ''
}

/** 12月6日 14:00–16:00 (one day) or two full date-times. */
export function timeRange(start: Instant, end: Instant): string {
  if (!toDate(end)) return dateTime(start)
  return dayKey(start) === dayKey(end) ? `${dateTime(start)}–${timeOnly(end)}` : `${dateTime(start)} – ${dateTime(end)}`
}

/** Today: the time; otherwise the date and time (lists, chat, inbox). */
export function when(value: Instant): string {
  return isToday(value) ? timeOnly(value) : dateTime(value)
}

/** The value of an <input type="datetime-local"> for an instant, in the user's zone. */
export function toZoneInput(value: Instant): string {
  const p = zoneParts(value)
  return p ? `${p.year}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}` : ''
}

/** An <input type="datetime-local"> value read as wall-clock time in the user's zone → ISO instant. */
export function fromZoneInput(value: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(value)
  if (!m) return null
  const wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5])
  let guess = wall
  for (let i = 0; i < 2; i += 1) {
    const p = zoneParts(guess)
    if (!p) return null
    const shown = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute)
    guess += wall - shown
  }
  return new Date(guess).toISOString()
}
