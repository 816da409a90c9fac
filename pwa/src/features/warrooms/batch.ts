// A bulk change (a campaign's targets added, moved, assigned) arrives as one compact `batch`: the
// fields every event of the batch has in common once (`base`, nested objects compared field by
// field) and, per event, only what differs (`rows[i]` is the event whose seq is `first_seq + i`).
// Expanding it gives exactly the events the server stores and replays (server/warrooms/eventlog.py
// builds it), so the seq buffer treats live and replayed events alike.
import type { RoomEvent } from '@/api/warrooms'

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
type Fields = { [key: string]: Json }

export interface CompactBatch {
  room_id: number
  first_seq: number
  count: number // rows.length: the seqs first_seq .. first_seq + count - 1
  base: Fields
  rows: Fields[]
}

const isFields = (value: Json | undefined): value is Fields =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** `base` with `diff` laid over it; an object in `base` means every event had an object there. */
function merge(base: Fields, diff: Fields): Fields {
  const out: Fields = {}
  for (const [key, value] of Object.entries(base)) {
    const sub = diff[key]
    out[key] = isFields(value) ? merge(value, isFields(sub) ? sub : {}) : value
  }
  for (const [key, value] of Object.entries(diff)) if (!(key in base)) out[key] = value
  return out
}

export function expandBatch(batch: CompactBatch): RoomEvent[] {
  return batch.rows.map((row, i) => ({ ...merge(batch.base, row), seq: batch.first_seq + i }) as unknown as RoomEvent)
}
