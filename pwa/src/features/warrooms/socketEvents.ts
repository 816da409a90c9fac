// The /warroom namespace, typed: what the server sends and what the client may send, each with its
// acknowledgement (realtime/warroom.py documents the same list). Errors answer any call as
// { ok: false, code, message } and also arrive as an `error` event.
import type { Socket } from 'socket.io-client'
import type { CardRef, RoomEvent, Target, TargetStage, Task, TaskStatus } from '@/api/warrooms'
import type { CompactBatch } from './batch'
import type { PresenceChange } from './presence'

export interface Refusal {
  ok: false
  code: string
  message?: string
  retry_after?: number
  current?: Record<string, unknown>
}
type Ack<T> = ({ ok: true } & T) | Refusal

export type JoinAck = Ack<{
  room_id: number
  events: RoomEvent[]
  more: boolean
  last_seq: number
  online: number[]
  call: CallNow | null
  stage: Stage | null
}>
export type SyncAck = Ack<{ room_id: number; events: RoomEvent[]; more: boolean }>
export type FollowAck = Ack<{ room_id: number; last_seq: number }>
export type RoomAck = Ack<{ room_id: number }>
export type ReadAck = Ack<{ last_read_seq: number }>
export type MessageAck = Ack<{ event: RoomEvent; duplicate: boolean }>
export type TaskAck = Ack<{ task: Task }>
export type TargetAck = Ack<{ target: Target }>
export type TargetRemoveAck = Ack<{ removed: number }>
export type TypingAck = Ack<object>

/** The room's call as the join acknowledgement tells it: who is in it now. */
export interface CallNow {
  call_id: string
  started_at: number
  members: number[]
}
export type CallJoinAck = Ack<{ room_id: number; call_id: string; started: boolean; started_at: number; peers: number[]; ice_servers: RTCIceServer[] }>
export type CallLeaveAck = Ack<{ room_id: number; ended: boolean }>
export interface CallPeer {
  room_id: number
  user_id: number
  joined: boolean
  call_id?: string
}
export interface CallSignal {
  room_id: number
  from_user_id: number
  description?: { type: 'offer' | 'answer'; sdp: string }
  candidate?: RTCIceCandidateInit
}
export type CallQuality = 'good' | 'audio' | 'chat'
export interface CallMedia {
  room_id: number
  user_id: number
  muted: boolean
  quality: CallQuality
}
/** What is on the room's shared stage: pages the server composed, the presenter's page. */
export interface StagePage {
  title: string
  lines: { label: string; value: string }[]
}
export interface Stage {
  room_id: number
  share_id: string
  kind: 'product' | 'calculator' | 'customer' | 'pdf'
  title: string
  pages: StagePage[]
  page: number
  downloadable: boolean
  presenter: { id: number; display_name: string }
  shared_at: string
}
export type StageShare = {
  room_id: number
  kind: Exclude<Stage['kind'], 'pdf'> // a PDF goes over HTTP (warRoomsApi.sharePdf)
  ref_id?: number
  calculator?: { calculator: 'loan' | 'deposit' | 'fx'; rows: [string, string | number][] }
  downloadable: boolean
}
export type StageAck = Ack<{ stage: Stage }>
export type StagePageAck = Ack<{ room_id: number; share_id: string; page: number }>

export interface TypingNotice {
  room_id: number
  user: { id: number; display_name: string }
  typing: boolean
}

export interface ServerToClientEvents {
  /** The server's message-queue link came back: broadcasts may have been lost, fetch what was missed. */
  resync: () => void
  event: (event: RoomEvent) => void
  /** A bulk change (a campaign's targets added, moved, assigned): consecutive events, sent compactly
   * (`expandBatch` gives them back, each with its seq). */
  batch: (batch: CompactBatch) => void
  presence: (change: PresenceChange) => void
  typing: (notice: TypingNotice) => void
  removed: (data: { room_id: number }) => void
  invited: (data: { room_id: number; title: string }) => void
  error: (refusal: Refusal) => void
  session_ended: () => void
  call_peer: (peer: CallPeer) => void
  call_signal: (signal: CallSignal) => void
  call_media: (media: CallMedia) => void
  stage: (data: { room_id: number; stage: Stage | null }) => void
  stage_page: (data: { room_id: number; share_id: string; page: number }) => void
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
  call_join: (data: { room_id: number }, ack: (res: CallJoinAck) => void) => void
  call_leave: (data: { room_id: number }, ack: (res: CallLeaveAck) => void) => void
  call_signal: (
    data: { room_id: number; to_user_id: number; description?: { type: 'offer' | 'answer'; sdp: string }; candidate?: RTCIceCandidateInit },
    ack: (res: Ack<object>) => void,
  ) => void
  call_media: (data: { room_id: number; muted: boolean; quality: CallQuality }, ack: (res: Ack<object>) => void) => void
  stage_share: (data: StageShare, ack: (res: StageAck) => void) => void
  stage_page: (data: { room_id: number; share_id: string; page: number }, ack: (res: StagePageAck) => void) => void
  stage_clear: (data: { room_id: number }, ack: (res: Ack<object>) => void) => void
}

export type WarRoomSocket = Socket<ServerToClientEvents, ClientToServerEvents>
