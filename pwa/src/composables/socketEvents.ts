// The events of the /inbox and /feed namespaces, typed once for the client (the war-room namespace
// types its own in its feature). socket.io-client's Socket<Listen, Emit> checks every `on`/`emit`
// against these maps.
import type { InboxItem } from '@/api/notebook'
import type { FeedEvent, OpportunityCard } from '@/api/opportunities'

/** A problem answered over a socket (ack or `error` event): a code for the catalog, never shown raw. */
export interface SocketProblem {
  ok: false
  code: string
  status?: number
  message?: string
  [extra: string]: unknown
}

// ---- /inbox ---------------------------------------------------------------------------------------
export interface InboxServerEvents {
  unread: (data: { unread: number }) => void
  notifications: (data: { items: InboxItem[]; unread: number }) => void
  missed: (data: { items: InboxItem[] }) => void
  /** The server's message-queue link came back: broadcasts may have been lost, fetch what was missed. */
  resync: () => void
  error: (problem: SocketProblem) => void
}
export interface InboxClientEvents {
  read: (data: { id: number }, ack?: (answer: { ok: true; unread: number } | SocketProblem) => void) => void
}
/** Sent at every (re)connect: the server replays notifications after `last_id`. */
export interface InboxAuth {
  last_id: number
}

// ---- /feed ----------------------------------------------------------------------------------------
export interface FeedResumeAck {
  ok: boolean
  events?: FeedEvent[]
  last_seq?: number
  more?: boolean
}
export interface FeedServerEvents {
  feed: (event: FeedEvent) => void
  access_changed: (data: { rooms_changed: boolean }) => void
  /** The server's message-queue link came back: broadcasts may have been lost, fetch what was missed. */
  resync: () => void
  error: (problem: SocketProblem) => void
}
export interface FeedClientEvents {
  resume: (data: { last_seq: number }, ack: (answer: FeedResumeAck) => void) => void
  claim: (
    data: { opportunity_id: number },
    ack: (answer: { ok: true; opportunity: OpportunityCard } | SocketProblem) => void,
  ) => void
}

/** Which event maps belong to which namespace. */
export interface NamespaceEvents {
  '/inbox': { listen: InboxServerEvents; emit: InboxClientEvents }
  '/feed': { listen: FeedServerEvents; emit: FeedClientEvents }
}
