// Notebook (记事本): notes, the inbox, reminder settings and web push devices. Reads go straight to
// the server; note writes go through the outbox (offline-safe, exactly once by Idempotency-Key).
import { http } from './http'
import type { Schemas } from './types'

export type Recurrence = Schemas['Recurrence']

export type NoteFull = Schemas['NotePublic']

export interface NoteInput {
  body: string
  customer_id: number | null
  tags: string[]
  remind_at: string | null
  todo: boolean
  recurrence: Recurrence | null
  urgent: boolean
}

export type InboxItem = Schemas['NotificationPublic']

export type InboxPage = Schemas['InboxPage']

export type ReminderSettings = Schemas['ReminderSettingsPublic']

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
    http.get<Schemas['NotePage']>(NOTES_URL, { query: { page_size: 50, ...query } }),
  note: (id: number) => http.get<NoteFull>(noteUrl(id)),
  inbox: (query: { before_id?: number; after_id?: number; unread?: boolean } = {}) =>
    http.get<InboxPage>('/api/v1/inbox', { query }),
  markRead: (id: number) => http.post<Schemas['NotificationRead']>(`/api/v1/inbox/${id}/read`),
  markAllRead: () => http.post<Schemas['ReadAllResult']>('/api/v1/inbox/read-all', {}),
  settings: () => http.get<ReminderSettings>('/api/v1/reminder-settings'),
  saveSettings: (patch: Schemas['ReminderSettingsUpdate']) => http.patch<ReminderSettings>('/api/v1/reminder-settings', patch),
  vapidKey: () => http.get<{ public_key: string }>('/api/v1/push/vapid-public-key'),
  devices: () => http.get<{ items: PushDevice[]; channels: string[] }>('/api/v1/push/subscriptions'),
  subscribe: (subscription: PushSubscriptionJSON) => http.post<{ id: number; endpoint_hash: string }>(
    '/api/v1/push/subscriptions',
    subscription,
  ),
  unsubscribe: (endpoint: string) => http.delete<void>('/api/v1/push/subscriptions', { body: { endpoint } }),
  removeDevice: (id: number) => http.delete<void>(`/api/v1/push/subscriptions/${id}`),
}
