import { describe, expect, it } from 'vitest'
import { callZh, formatLength } from '@/features/warrooms/call/locale'
import { callEn } from '@/features/warrooms/call/locale.en'

describe('war-room call strings', () => {
  it('formats a call length', () => {
    expect(formatLength(0)).toBe('0:00')
    expect(formatLength(83)).toBe('1:23')
    expect(formatLength(3723)).toBe('1:02:03')
  })
  it('has every zh-CN key in English too', () => {
    const keys = (o: object, p = ''): string[] =>
      Object.entries(o).flatMap(([k, v]) => (typeof v === 'object' ? keys(v as object, `${p}${k}.`) : [`${p}${k}`]))
    expect(keys(callEn)).toEqual(keys(callZh))
  })
})
