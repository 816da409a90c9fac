// War rooms (作战室): REST for lists, rooms and the board; live changes come over the /warroom socket
// (features/warrooms/useWarRoom.ts). Messages sent while the socket is down use postMessage here.
import { http } from './http'
import type { Schemas } from './types'

export type RoomKind = 'project_marketing' | 'wholesale' | 'general'
export type RoomMode = 'solo' | 'joint' | 'remote'
export type RoomStatus = 'active' | 'won' | 'closed'
export type MemberRole = 'owner' | 'member' | 'remote_expert' | 'observer'
export type MemberStatus = 'invited' | 'active' | 'declined' | 'left' | 'removed'
export type TargetStage = 'to_contact' | 'contacted' | 'negotiating' | 'approval' | 'won' | 'lost'
export type TaskStatus = 'todo' | 'doing' | 'done'
export type RoomScope = 'mine' | 'invitations' | 'team'

export interface PersonRef {
  id: number
  display_name: string
}

export type Progress = Schemas['RoomProgress']

export interface RoomSummary {
  id: number
  title: string
  kind: RoomKind
  mode: RoomMode
  status: RoomStatus
  goal_amount_cents: number | null
  goal_customers: number | null
  deadline: string | null
  owner_id: number
  source: { type: string; id: number; title: string | null } | null
  last_seq: number
  version: number
  progress: Progress
  updated_at: string
  my_role?: MemberRole
  unread?: number
}

/** A listed room; on the team lead's board also the number of active members. */
export type ListedRoom = RoomSummary & { members?: number }

export type Member = Schemas['RoomMemberPublic']

/** pending consent: a member asked for a colleague's customer; nothing is shared until its RM approves. */
export type Target = Schemas['TargetPublic']

/** Where a bulk of targets comes from (项目营销 · 批发销售). */
export type TargetSource =
  | { type: 'search'; q?: string; industry?: string; tier?: string; region?: string; tags?: string }
  | { type: 'chain'; core_customer_id: number; direction: 'upstream' | 'downstream' | 'both'; hops: number }
  | { type: 'park'; address: string; region?: string }
  | { type: 'employees'; company_customer_id: number }
  | { type: 'file'; filename: string; content_base64: string }

export interface BulkResult {
  source: string
  found: number
  added: number
  requested: number
  prospects: number
  skipped: number
  owners_asked: number
  bulk_id?: number
  first_seq?: number | null
  last_seq?: number | null
  dry_run?: boolean
  replayed?: boolean
  employees_declared?: number | null
  not_yet_customers_estimate?: number | null
}

export type CampaignBoard = Schemas['CampaignBoard']

export type ChainFirm = Schemas['ChainFirm']
export type ChainNode = Schemas['ChainFirmNode']
export type ChainView = Schemas['ChainView']

export type CampaignOutcome = Schemas['CampaignOutcome']
export type BenefitShare = Schemas['BenefitShare']

export type TargetConsent = 'approved' | 'pending'

export type Task = Schemas['TaskPublic']

export type RoomDetail = Schemas['RoomDetail']

/** An opportunity linked to the room (title null if it no longer exists). */
export type LinkedOpportunity = Schemas['LinkedOpportunity']

/** What a chat card points at; the server fills in the title it shows. */
export type CardType = 'customer' | 'product' | 'opportunity'
export interface CardRef {
  type: CardType
  id: number
}

/** A card chosen in the picker, shown on the draft before it is sent. */
export interface PickedCard extends CardRef {
  title: string
}

export type QuickSource = 'customer' | 'opportunity' | 'intel_alert'
export interface QuickCreate {
  source_type: QuickSource
  source_id: number
  title?: string
  customer_id?: number
  product_id?: number
  invite_suggested: boolean
}

export interface SuggestedMember extends PersonRef {
  reason: 'customer_rm' | 'product_expert'
  role: MemberRole
  qualification?: string
}

export interface Card {
  type: CardType
  id: number
  title: string | null
  subtitle: string | null
}

/** What an event carries, by kind: message/system (text, mentions, cards), task.* (task),
 * target.* (target), member.* (user, role), room.* (title, status ...). */
export interface EventPayload {
  text?: string
  mentions?: number[]
  cards?: Card[]
  task?: Task
  target?: Target
  user?: PersonRef
  role?: MemberRole
  title?: string
  status?: RoomStatus
  opportunity_id?: number
  source?: { type: QuickSource; id: number; title: string | null } | null
  from_status?: TaskStatus
  from_stage?: TargetStage
  /** campaign.summary: the board of the day */
  board?: { stages: { stage: TargetStage; count: number; amount_cents: number }[] }
  day?: string
  bulk_id?: number
  /** call.started / call.ended: the call, who took part, how long (s) */
  call_id?: string
  members?: PersonRef[]
  seconds?: number
  /** expert.booked */
  expert?: PersonRef
  starts_at?: string
  ends_at?: string
}

export interface RoomEvent {
  room_id: number
  seq: number
  kind: string
  payload: EventPayload
  client_id: string | null
  author: PersonRef | null
  created_at: string
}

export interface RoomCreate {
  title: string
  kind: RoomKind
  mode: RoomMode
  goal_amount_cents?: number | null
  goal_customers?: number | null
  deadline?: string | null
  invite_user_ids?: number[]
  customer_ids?: number[]
}

export type Person = Schemas['Colleague']

const base = '/api/v1/war-rooms'

/** An expert among my collaboration resources, with free half-hour slots (预约专家). */
export type BookableExpert = Schemas['BookableExpert']

export const warRoomsApi = {
  /** A PDF proposal on the room's shared stage (≤ 700 KB; the room hears it over the socket). */
  sharePdf: (id: number, body: { filename: string; content_base64: string; pages: number; downloadable: boolean }) =>
    http.post<{ share_id: string }>(`${base}/${id}/stage/pdf`, body),
  experts: (id: number) => http.get<{ items: BookableExpert[] }>(`${base}/${id}/experts`),
  /** Books the slot and invites the expert as remote_expert; the key makes a double tap book once. */
  bookExpert: (id: number, body: { resource_id: number; starts_at: string; ends_at: string }, idempotencyKey: string) =>
    http.post<{ booking: { id: number; starts_at: string }; expert: PersonRef }>(`${base}/${id}/experts/bookings`, body, {
      headers: { 'Idempotency-Key': idempotencyKey },
    }),
  list: (scope: RoomScope) => http.get<{ items: ListedRoom[] }>(base, { query: { scope } }),
  get: (id: number) => http.get<RoomDetail>(`${base}/${id}`),
  create: (body: RoomCreate) => http.post<RoomDetail>(base, body),
  /** 快速搭建. The key makes a double tap open one room, not two. */
  quick: (body: QuickCreate, idempotencyKey: string) =>
    http.post<RoomDetail & { suggested_members: SuggestedMember[] }>(`${base}/quick`, body, {
      headers: { 'Idempotency-Key': idempotencyKey },
    }),
  accept: (id: number) => http.post<RoomDetail>(`${base}/${id}/invitations/accept`),
  decline: (id: number) => http.post<{ declined: boolean }>(`${base}/${id}/invitations/decline`),
  invite: (id: number, userIds: number[]) =>
    http.post<{ invited: number[] }>(`${base}/${id}/invitations`, { user_ids: userIds }),
  remove: (id: number, userId: number) => http.delete<{ removed: number }>(`${base}/${id}/members/${userId}`),
  leave: (id: number) => http.post<{ left: number }>(`${base}/${id}/leave`),
  addTarget: (id: number, body: { prospect_name?: string; customer_id?: number; client_id: string }) =>
    http.post<Target>(`${base}/${id}/targets`, body),
  removeTarget: (id: number, target: Target) =>
    http.delete<{ removed: number }>(`${base}/${id}/targets/${target.id}`, {
      headers: { 'If-Match': `"${target.version}"` },
    }),
  /** The customer's RM lets a member's request into the room, or turns it down. */
  approveTarget: (id: number, targetId: number) => http.post<Target>(`${base}/${id}/targets/${targetId}/approve`),
  declineTarget: (id: number, targetId: number) =>
    http.post<{ declined: number }>(`${base}/${id}/targets/${targetId}/decline`),
  events: (id: number, afterSeq: number, limit = 200) =>
    http.get<{ items: RoomEvent[]; last_seq: number }>(`${base}/${id}/events`, {
      query: { after_seq: afterSeq, limit },
    }),
  /** Many targets from one source; the key makes a retry add nothing (dry run: counts only). */
  bulkTargets: (id: number, body: { client_key: string; source: TargetSource; dry_run?: boolean }) =>
    http.post<BulkResult>(`${base}/${id}/targets/bulk`, body),
  campaign: (id: number) => http.get<CampaignBoard>(`${base}/${id}/campaign`),
  moveTargets: (id: number, body: { client_key: string; target_ids: number[]; stage: TargetStage }) =>
    http.post<{ moved: number; pending: number; first_seq: number | null; last_seq: number | null }>(`${base}/${id}/targets/move`, body),
  assignTargets: (id: number, body: { client_key: string; strategy: 'balanced' | 'knows'; target_ids?: number[] }) =>
    http.post<{ assigned: number; by_knowing: number }>(`${base}/${id}/targets/assign`, body),
  chain: (id: number, query: { hops?: number; direction?: string } = {}) =>
    http.get<ChainView>(`${base}/${id}/chain`, { query }),
  outcome: (id: number) => http.get<CampaignOutcome>(`${base}/${id}/outcome`),
  outcomeCsvUrl: (id: number) => `${base}/${id}/outcome.csv`,
  people: (q: string) => http.get<{ items: Person[] }>(`${base}/people`, { query: { q } }),
  postMessage: (id: number, body: { text: string; client_id: string; cards?: CardRef[]; mentions?: number[] }) =>
    http.post<RoomEvent>(`${base}/${id}/messages`, body, { headers: { 'Idempotency-Key': body.client_id } }),
}
