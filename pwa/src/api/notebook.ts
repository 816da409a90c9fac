// Notebook (记事本): notes, the inbox, reminder settings and web push devices. Reads go straight to
// the server; note writes go through the outbox (offline-safe, exactly once by Idempotency-Key).
import { http } from './http'
import type { Page } from './types'

export type Recurrence = 'yearly' | 'monthly'

export interface NoteFull {
  id: number
  body: string
  customer_id: number | null
  tags: string[]
  remind_at: string | null
  todo: boolean
  done: boolean
  recurrence: Recurrence | null
  urgent: boolean
  created_at: string
  updated_at: string
  version: number
}

export interface NoteInput {
  body: string
  customer_id: number | null
  tags: string[]
  remind_at: string | null
  todo: boolean
  recurrence: Recurrence | null
  urgent: boolean
}

export interface InboxItem {
  id: number
  kind: string
  title: string
  body: string
  url: string
  urgency: string
  due_at: string | null
  late: boolean
  created_at: string
  read_at: string | null
}

export interface InboxPage {
  items: InboxItem[]
  total: number
  unread: number
}

export interface ReminderSettings {
  birthdays: boolean
  birthday_days_ahead: number
  maturities: boolean
  maturity_days_ahead: number
  follow_ups: boolean
  follow_up_days: number
  war_room_tasks: boolean
  quiet_start: string | null
  quiet_end: string | null
  timezone: string
  channels: Record<string, boolean>
  updated_at?: string
}

/** A device as the server read it from the browser's User-Agent (codes; see features/notebook/device.ts). */
export interface DeviceKind {
  platform: string
  browser: string
}

export interface PushDevice {
  id: number
  endpoint_hash: string
  push_service: string
  device: DeviceKind
  created_at: string
  last_success_at: string | null
}

export const NOTES_URL = '/api/v1/notes'
export const noteUrl = (id: number) => `${NOTES_URL}/${id}`

export const notebookApi = {
  notes: (query: { page?: number; done?: boolean; todo?: boolean; q?: string } = {}) =>
    http.get<Page<NoteFull>>(NOTES_URL, { query: { page_size: 50, ...query } }),
  note: (id: number) => http.get<NoteFull>(noteUrl(id)),
  inbox: (query: { before_id?: number; after_id?: number; unread?: boolean } = {}) =>
    http.get<InboxPage>('/api/v1/inbox', { query }),
  markRead: (id: number) => http.post<InboxItem & { unread: number }>(`/api/v1/inbox/${id}/read`),
  markAllRead: () => http.post<{ marked: number; unread: number }>('/api/v1/inbox/read-all', {}),
  settings: () => http.get<ReminderSettings>('/api/v1/reminder-settings'),
  saveSettings: (patch: Partial<ReminderSettings>) => http.patch<ReminderSettings>('/api/v1/reminder-settings', patch),
  vapidKey: () => http.get<{ public_key: string }>('/api/v1/push/vapid-public-key'),
  devices: () => http.get<{ items: PushDevice[]; channels: string[] }>('/api/v1/push/subscriptions'),
  subscribe: (subscription: PushSubscriptionJSON) => http.post<{ id: number; endpoint_hash: string }>(
    '/api/v1/push/subscriptions',
    subscription,
  ),
  unsubscribe: (endpoint: string) => http.delete<void>('/api/v1/push/subscriptions', { body: { endpoint } }),
  removeDevice: (id: number) => http.delete<void>(`/api/v1/push/subscriptions/${id}`),
}
