// The learning API (经验资产: case cards, playbook; 产品学习: quizzes and readiness) and helper tasks (助手).
import { http } from '@/api/http'
import { newId } from '@/offline/outbox'

export interface CaseStep { order: number; kind: string; days: number }
export interface CaseHelper { role: string; persona: string | null; name: string | null }
export interface CaseCard {
  id: string
  source: 'opportunity' | 'war_room' | 'visits'
  outcome: 'won' | 'lost'
  customer: { label: string; kind: string; industry_code: string | null; size: string | null; tier: string | null; region_name: string | null }
  products: Array<{ id: number; name: string; category: string }>
  steps: CaseStep[]
  total_days: number
  helpers: CaseHelper[]
  amount_cents: number | null
  closed_on: string | null
  similarity?: number
  alike_count?: number
  reasons?: string[]
}
export interface CaseList { about: string | null; items: CaseCard[]; pool: number }
export interface PlaybookFigure { key: string; mine: number | null; best: number | null; team: number | null; lower_is_better: boolean }
export interface Sequence { from: string; to: string; count: number }
export interface Playbook {
  team_size: number
  best_count: number
  i_am_best: boolean
  completion: { mine: number | null; best: number | null }
  figures: PlaybookFigure[]
  sequences: { best: Sequence[]; mine: Sequence[] }
  window_days: number
}
export interface Question { key: string; product_id: number; product_name: string; kind: string; prompt: string; options: string[] }
export interface QuizSession { items: Question[]; due_count: number; next_due_at: string | null }
export interface AnswerResult { correct: boolean; answer: number; due: string; readiness: number }
export interface ProductReadiness { product_id: number; name: string; category: string; questions: number; answered: number; readiness: number }
export interface LearningSummary { readiness: number; products: ProductReadiness[]; due_count: number; next_due_at: string | null; share_name: boolean }

export interface HelperTask {
  id: number
  owner: { id: number; display_name: string }
  helper: { id: number; display_name: string }
  customer_id: number | null
  customer_name: string | null
  kind: 'collect_documents' | 'book_meeting' | 'prepare_proposal'
  title: string
  note: string | null
  due_on: string
  status: 'open' | 'doing' | 'done' | 'cancelled'
  progress: number
  progress_note: string | null
  credit_cents: number
  version: number
}
export interface HelperCandidate { id: number; display_name: string; persona: string; hire_date: string; current: boolean }
export interface TaskCreate { helper_id: number; customer_id: number; kind: HelperTask['kind']; title: string; note?: string; due_on: string; credit_cents: number }
export interface TaskUpdate { version: number; progress?: number; progress_note?: string; status?: 'doing' | 'done' | 'cancelled' }

const key = () => newId()

export const learningApi = {
  cases: (query: { customer_id?: number; prospect_id?: number; limit?: number } = {}) =>
    http.get<CaseList>('/api/v1/learning/cases', { query: { ...query } }),
  caseCard: (id: string) => http.get<CaseCard>(`/api/v1/learning/cases/${encodeURIComponent(id)}`),
  playbook: () => http.get<Playbook>('/api/v1/learning/playbook'),
  quiz: () => http.get<QuizSession>('/api/v1/learning/quiz'),
  answer: (question_key: string, choice: number) =>
    http.post<AnswerResult>('/api/v1/learning/quiz/answers', { question_key, choice }, { headers: { 'Idempotency-Key': key() } }),
  readiness: () => http.get<{ overall: number; products: ProductReadiness[] }>('/api/v1/learning/readiness'),
  summary: () => http.get<LearningSummary>('/api/v1/learning/summary'),
  consent: (share_name: boolean) => http.put<{ share_name: boolean }>('/api/v1/learning/consent', { share_name }),
}

export const helpersApi = {
  tasks: () => http.get<{ is_super: boolean; mine: HelperTask[]; for_me: HelperTask[] }>('/api/v1/helpers/tasks'),
  task: (id: number) => http.get<HelperTask>(`/api/v1/helpers/tasks/${id}`),
  candidates: () => http.get<{ items: HelperCandidate[] }>('/api/v1/helpers/candidates'),
  create: (data: TaskCreate) => http.post<HelperTask>('/api/v1/helpers/tasks', data, { headers: { 'Idempotency-Key': key() } }),
  update: (id: number, data: TaskUpdate) =>
    http.patch<HelperTask>(`/api/v1/helpers/tasks/${id}`, data, { headers: { 'Idempotency-Key': key() } }),
}
