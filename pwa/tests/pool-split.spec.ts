import { describe, expect, it } from 'vitest'
import { percentToBp, splitCents } from '@/features/opportunities/split'

describe('benefit split preview', () => {
  it('books as the server does: originator rounded half up, the closer the rest, always the whole revenue', () => {
    expect(splitCents(123457, 5000)).toEqual([61729, 61728]) // the server test's own figures
    for (const [revenue, bp] of [[1, 3000], [99, 3333], [10_000_001, 7], [5, 5000], [0, 3000], [100, 10_000]]) {
      const [o, c] = splitCents(revenue, bp)
      expect(o + c).toBe(revenue)
      expect(o).toBeGreaterThanOrEqual(0)
      expect(c).toBeGreaterThanOrEqual(0)
    }
  })

  it('turns a typed percentage into basis points within 0–100 %', () => {
    expect(percentToBp(33.33)).toBe(3333)
    expect(percentToBp(150)).toBe(10_000)
    expect(percentToBp(-5)).toBe(0)
    expect(percentToBp(Number.NaN)).toBe(0)
  })
})
