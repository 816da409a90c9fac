import { describe, expect, it } from 'vitest'
import { applyPresence } from '@/features/warrooms/presence'

describe('applyPresence', () => {
  it('adds who came online and drops who went offline, keeping the list sorted', () => {
    expect(applyPresence([3, 7], { room_id: 1, came_online: [5, 1], went_offline: [7] })).toEqual([1, 3, 5])
  })

  it('is unchanged by a change the list already shows, or by one seen twice', () => {
    const once = applyPresence([2, 4], { room_id: 1, came_online: [4], went_offline: [9] })
    expect(once).toEqual([2, 4])
    const change = { room_id: 1, came_online: [6], went_offline: [2] }
    expect(applyPresence(applyPresence(once, change), change)).toEqual([4, 6])
  })

  it('tolerates a change with only one side', () => {
    expect(applyPresence([1], { room_id: 1, went_offline: [1] })).toEqual([])
    expect(applyPresence([], { room_id: 1, came_online: [8] })).toEqual([8])
  })
})
