// How a call steps down on a weak network and back up: a pure function of the samples, so the rule
// is tested without a network. Samples come every 2 s from getStats() (useCall.ts).
import type { CallQuality } from '../socketEvents'

export interface LinkSample {
  lossRate: number // packets lost / (lost + received) since the last sample, worst peer
  rtt: number // seconds, worst peer
  slow: boolean // the browser says 2G
}

export interface QualityState {
  quality: CallQuality
  bad: number // bad samples in a row
  good: number // good samples in a row
}

const BAD_LOSS = 0.15
const BAD_RTT_S = 1.0
const STEP_DOWN_AFTER = 3 // 6 s of a bad link
const STEP_UP_AFTER = 5 // 10 s of a good one

export const isBad = (s: LinkSample) => s.slow || s.lossRate > BAD_LOSS || s.rtt > BAD_RTT_S

/** The next state: three bad samples step good -> audio (low bitrate) -> chat; five good ones step
 *  audio back to good. Chat is left only by the member (恢复语音) or the browser coming online. */
export function nextQuality(state: QualityState, sample: LinkSample): QualityState {
  const bad = isBad(sample) ? state.bad + 1 : 0
  const good = isBad(sample) ? 0 : state.good + 1
  if (bad >= STEP_DOWN_AFTER && state.quality !== 'chat')
    return { quality: state.quality === 'good' ? 'audio' : 'chat', bad: 0, good: 0 }
  if (good >= STEP_UP_AFTER && state.quality === 'audio') return { quality: 'good', bad: 0, good: 0 }
  return { quality: state.quality, bad, good }
}
