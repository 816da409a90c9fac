import { describe, expect, it } from 'vitest'
import { type CompactBatch, expandBatch } from '@/features/warrooms/batch'
import { SeqBuffer } from '@/features/warrooms/seqBuffer'

const author = { id: 3, display_name: '牵头人' }
const at = '2026-12-05T12:00:00Z'

// What server/warrooms/eventlog.py:compact_batch makes of three moved targets (one a customer, one
// with a field the others lack, one with an object where the others have null).
const batch: CompactBatch = {
  room_id: 1,
  first_seq: 7,
  count: 3,
  base: {
    room_id: 1,
    kind: 'target.updated',
    payload: { target: { consent: 'approved', stage: 'contacted', version: 2 }, bulk_id: 4 },
    client_id: null,
    author,
    created_at: at,
  },
  rows: [
    { payload: { target: { id: 100, customer_id: null, name: '名单企业0', prospect: true, amount_cents: 0, assignee_id: null }, from_stage: 'to_contact' } },
    { payload: { target: { id: 101, customer_id: 55, name: '名单企业1', prospect: false, amount_cents: 1, assignee_id: null }, from_stage: 'negotiating' } },
    { payload: { target: { id: 102, customer_id: null, name: '名单企业2', prospect: true, amount_cents: 0, assignee_id: { x: 1 } }, from_stage: 'to_contact', extra: [1, 2] } },
  ],
}

const target = (id: number, name: string, extra: Record<string, unknown> = {}) => ({
  id,
  customer_id: null,
  name,
  prospect: true,
  consent: 'approved',
  stage: 'contacted',
  amount_cents: 0,
  assignee_id: null,
  version: 2,
  ...extra,
})

describe('expandBatch', () => {
  it('rebuilds each event exactly as the server stores it, one seq each', () => {
    const events = expandBatch(batch)
    expect(events.map((e) => e.seq)).toEqual([7, 8, 9])
    expect(events[0]).toEqual({
      room_id: 1,
      seq: 7,
      kind: 'target.updated',
      payload: { target: target(100, '名单企业0'), bulk_id: 4, from_stage: 'to_contact' },
      client_id: null,
      author,
      created_at: at,
    })
    expect(events[1].payload).toEqual({
      target: target(101, '名单企业1', { customer_id: 55, prospect: false, amount_cents: 1 }),
      bulk_id: 4,
      from_stage: 'negotiating',
    })
    expect(events[2].payload).toEqual({
      target: target(102, '名单企业2', { assignee_id: { x: 1 } }),
      bulk_id: 4,
      from_stage: 'to_contact',
      extra: [1, 2],
    })
    // Only the third event has `extra`; nothing of one event leaks into another.
    expect('extra' in events[0].payload).toBe(false)
    expect(events[0].payload.target).not.toBe(events[1].payload.target)
  })

  it('goes through the seq buffer like replayed events: each seq once, in order', () => {
    const buffer = new SeqBuffer(6)
    const later: CompactBatch = { ...batch, first_seq: 10, count: 2, rows: batch.rows.slice(0, 2) }
    expect(buffer.push(expandBatch(later))).toEqual({ ready: [], gap: true }) // 7..9 not here yet
    const { ready, gap } = buffer.push([...expandBatch(batch), ...expandBatch(batch)])
    expect(ready.map((e) => e.seq)).toEqual([7, 8, 9, 10, 11])
    expect(gap).toBe(false)
    expect(ready[3].payload.target?.id).toBe(100)
  })
})
