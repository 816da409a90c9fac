// Who is online in a room. The join acknowledgement brings the whole list; after that the server
// sends only who came online or went offline (at most once a second), so a big room does not send
// every member the whole list whenever anyone comes or goes.
export interface PresenceChange {
  room_id: number
  came_online?: number[]
  went_offline?: number[]
}

/** The online list after one change: each change says how things stand now, so applying one twice,
 * or one the join list already shows, changes nothing. */
export function applyPresence(online: number[], change: PresenceChange): number[] {
  const now = new Set(online)
  for (const id of change.came_online ?? []) now.add(id)
  for (const id of change.went_offline ?? []) now.delete(id)
  return [...now].sort((a, b) => a - b)
}
