import { describe, expect, it } from 'vitest'
import { nearParam, scoreColor, SCORE_BANDS } from './score'

describe('scoreColor', () => {
  it('colours the top 5 % red and unscored grey', () => {
    expect(scoreColor(99.5)).toBe(SCORE_BANDS[0].color)
    expect(scoreColor(95)).toBe(SCORE_BANDS[0].color)
    expect(scoreColor(94.9)).toBe(SCORE_BANDS[1].color)
    expect(scoreColor(60)).toBe(SCORE_BANDS[2].color)
    expect(scoreColor(3)).toBe(SCORE_BANDS[3].color)
    expect(scoreColor(null)).toBe('#8a94a6')
  })
  it('rounds the position in the near filter', () => {
    expect(nearParam(31.234567, 121.474321, 5)).toBe('31.235,121.474,5')
  })
})
