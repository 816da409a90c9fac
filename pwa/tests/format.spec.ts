import { afterEach, describe, expect, it } from 'vitest'
import {
  dateTime,
  dayKey,
  exactMoney,
  formatConfig,
  fromZoneInput,
  isToday,
  money,
  percent,
  plainNumber,
  setDisplayZone,
  setFormatLocale,
  slotTime,
  timeOnly,
  timeRange,
  toZoneInput,
} from '@/lib/format'

afterEach(() => {
  setDisplayZone('Asia/Shanghai')
  setFormatLocale('zh-CN')
})

describe('money', () => {
  it('reads amounts in cents in the UI language', () => {
    expect(money(850_000)).toBe('8,500元')
    expect(money(1_234_500_00)).toBe('123.45万元')
    expect(money(32_000_000_000)).toBe('3.2亿元')
    expect(money(null)).toBe('—')
    setFormatLocale('en')
    expect(money(850_000)).toBe('¥8,500')
    expect(money(1_234_500_00)).toBe('¥1.23M')
  })

  it('writes plain numbers in the UI language', () => {
    expect(plainNumber(12345.67)).toBe('12,345.7')
    expect(plainNumber(null)).toBe('—')
  })

  it('keeps fen where a statement needs them', () => {
    expect(exactMoney(123_456)).toBe('1,234.56元')
    expect(percent(0.4567)).toBe('46%')
    expect(percent(0.4567, 1)).toBe('45.7%')
    expect(percent(undefined)).toBe('—')
  })
})

describe('times in the user zone', () => {
  // 2026-12-04T23:30Z is 07:30 on 5 December in Shanghai: tomorrow morning, not "today 23:30".
  const late = '2026-12-04T23:30:00Z'

  it('shows the wall clock of the user zone, whatever the device zone', () => {
    expect(timeOnly(late)).toBe('07:30')
    expect(dayKey(late)).toBe('2026-12-05')
    setDisplayZone('America/New_York')
    expect(timeOnly(late)).toBe('18:30')
    expect(dayKey(late)).toBe('2026-12-04')
  })

  it('counts today by the user day, not the UTC day', () => {
    const now = '2026-12-04T10:00:00Z' // 18:00 in Shanghai on 4 December
    expect(isToday(late, now)).toBe(false)
    expect(isToday('2026-12-04T15:59:00Z', now)).toBe(true) // 23:59 local
    expect(isToday('2026-12-04T16:00:00Z', now)).toBe(false) // 00:00 local next day
  })

  it('writes dates in Chinese for zh-CN and never as ISO', () => {
    const text = dateTime(late)
    expect(text).toContain('12月5日')
    expect(text).toContain('07:30')
    expect(text).not.toMatch(/\d{4}-\d{2}-\d{2}T/)
    expect(timeRange('2026-12-06T06:00:00Z', '2026-12-06T08:00:00Z')).toMatch(/12月6日.*14:00–16:00$/)
  })

  it('round-trips datetime-local inputs through the user zone', () => {
    const iso = fromZoneInput('2033-01-10T10:00')
    expect(iso).toBe('2033-01-10T02:00:00.000Z')
    expect(toZoneInput(iso)).toBe('2033-01-10T10:00')
    setDisplayZone('America/New_York')
    expect(fromZoneInput('2033-07-10T10:00')).toBe('2033-07-10T14:00:00.000Z') // summer time
    expect(fromZoneInput('nonsense')).toBeNull()
  })

  it('shows a slot with its weekday in the user zone and language', () => {
    // 2026-12-06T16:30Z: Sunday 16:30 in London, Monday 00:30 in Shanghai.
    expect(slotTime('2026-12-06T16:30:00Z')).toMatch(/^12\/7.*周一.*00:30$/)
    setFormatLocale('en')
    setDisplayZone('Europe/London')
    expect(slotTime('2026-12-06T16:30:00Z')).toMatch(/^Sun.*12\/6.*16:30$/)
    expect(slotTime(null)).toBe('')
  })

  it('ignores an unknown zone', () => {
    setDisplayZone('Mars/Olympus')
    expect(formatConfig.zone).toBe('Asia/Shanghai')
  })
})
