import { describe, expect, it } from 'vitest'
import { nextQuality, type LinkSample, type QualityState } from '@/features/warrooms/call/quality'

const GOOD: LinkSample = { lossRate: 0.01, rtt: 0.08, slow: false }
const LOSSY: LinkSample = { lossRate: 0.3, rtt: 0.2, slow: false }
const run = (state: QualityState, samples: LinkSample[]) => samples.reduce(nextQuality, state)
const start: QualityState = { quality: 'good', bad: 0, good: 0 }

describe('call quality on a weak network', () => {
  it('steps down to low-bitrate audio after three bad samples, not two', () => {
    expect(run(start, [LOSSY, LOSSY]).quality).toBe('good')
    expect(run(start, [LOSSY, LOSSY, LOSSY]).quality).toBe('audio')
  })
  it('a good sample in between resets the count', () => {
    expect(run(start, [LOSSY, LOSSY, GOOD, LOSSY, LOSSY]).quality).toBe('good')
  })
  it('then to chat, and stays there until the member restores audio', () => {
    const chat = run(start, Array(6).fill(LOSSY))
    expect(chat.quality).toBe('chat')
    expect(run(chat, Array(10).fill(GOOD)).quality).toBe('chat')
  })
  it('comes back from low-bitrate audio after five good samples', () => {
    const audio = run(start, Array(3).fill(LOSSY))
    expect(run(audio, Array(4).fill(GOOD)).quality).toBe('audio')
    expect(run(audio, Array(5).fill(GOOD)).quality).toBe('good')
  })
  it('a long round trip or a 2G connection counts as bad', () => {
    expect(run(start, Array(3).fill({ lossRate: 0, rtt: 1.5, slow: false })).quality).toBe('audio')
    expect(run(start, Array(3).fill({ lossRate: 0, rtt: 0.05, slow: true })).quality).toBe('audio')
  })
})
