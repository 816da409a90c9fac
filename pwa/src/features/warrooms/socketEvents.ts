// The /warroom namespace, typed: what the server sends and what the client may send, each with its
// acknowledgement (realtime/warroom.py documents the same list). Errors answer any call as
// { ok: false, code, message } and also arrive as an `error` event.
import type { Socket } from 'socket.io-client'
import type { CardRef, RoomEvent, Target, TargetStage, Task, TaskStatus } from '@/api/warrooms'
import type { PresenceChange } from './presence'

export interface Refusal {
  ok: false
  code: string
  message?: string
  retry_after?: number
  current?: Record<string, unknown>
}
type Ack<T> = ({ ok: true } & T) | Refusal

export type JoinAck = Ack<{ room_id: number; events: RoomEvent[]; more: boolean; last_seq: number; online: number[] }>
export type SyncAck = Ack<{ room_id: number; events: RoomEvent[]; more: boolean }>
export type FollowAck = Ack<{ room_id: number; last_seq: number }>
export type RoomAck = Ack<{ room_id: number }>
export type ReadAck = Ack<{ last_read_seq: number }>
export type MessageAck = Ack<{ event: RoomEvent; duplicate: boolean }>
export type TaskAck = Ack<{ task: Task }>
export type TargetAck = Ack<{ target: Target }>
export type TargetRemoveAck = Ack<{ removed: number }>
export type TypingAck = Ack<object>

export interface TypingNotice {
  room_id: number
  user: { id: number; display_name: string }
  typing: boolean
}

export interface ServerToClientEvents {
  event: (event: RoomEvent) => void
  /** A bulk change (a campaign's targets added, moved, assigned): many events, each with its seq. */
  events: (batch: { room_id: number; events: RoomEvent[] }) => void
  presence: (change: PresenceChange) => void
  typing: (notice: TypingNotice) => void
  removed: (data: { room_id: number }) => void
  invited: (data: { room_id: number; title: string }) => void
  error: (refusal: Refusal) => void
  session_ended: () => void
}

export interface ClientToServerEvents {
  join: (data: { room_id: number; last_seq: number }, ack: (res: JoinAck) => void) => void
  leave: (data: { room_id: number }, ack?: (res: RoomAck) => void) => void
  follow: (data: { room_id: number }, ack?: (res: FollowAck) => void) => void
  unfollow: (data: { room_id: number }, ack?: (res: RoomAck) => void) => void
  sync: (data: { room_id: number; after_seq: number }, ack: (res: SyncAck) => void) => void
  read: (data: { room_id: number; seq: number }, ack: (res: ReadAck) => void) => void
  message: (
    data: { room_id: number; client_id: string; text: string; cards: CardRef[]; mentions: number[] },
    ack: (res: MessageAck) => void,
  ) => void
  typing: (data: { room_id: number; typing: boolean }, ack?: (res: TypingAck) => void) => void
  task: (
    data: {
      room_id: number
      client_id: string
      task_id?: number
      item?: string
      assignee_id?: number | null
      due_on?: string | null
      status?: TaskStatus
      version?: number
    },
    ack: (res: TaskAck) => void,
  ) => void
  target: (
    data: { room_id: number; client_id: string; target_id: number; stage?: TargetStage; amount_cents?: number; version?: number },
    ack: (res: TargetAck) => void,
  ) => void
  target_remove: (
    data: { room_id: number; client_id: string; target_id: number; version?: number },
    ack: (res: TargetRemoveAck) => void,
  ) => void
}

export type WarRoomSocket = Socket<ServerToClientEvents, ClientToServerEvents>
