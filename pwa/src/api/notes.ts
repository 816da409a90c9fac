import { http } from './http'
import type { Note, NoteCreate, Page } from './types'

export const NOTES_URL = '/api/v1/notes'

export const notesApi = {
  list: () => http.get<Page<Note>>(NOTES_URL),
  /** Direct create; the UI goes through the outbox instead (see offline/outbox.ts). */
  create: (note: NoteCreate, idempotencyKey: string) =>
    http.post<Note>(NOTES_URL, note, { headers: { 'Idempotency-Key': idempotencyKey } }),
}
