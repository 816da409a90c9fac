// One war room, live: the REST snapshot (members, board, targets), then the /warroom socket. Events
// are applied in seq order (SeqBuffer); after a reconnect the room is re-joined with the last seq
// and the server replays what was missed, so the banner can say how many were caught up.
import { computed, reactive, ref, shallowRef } from 'vue'
import { useSocket } from '@/composables/useSocket'
import {
  warRoomsApi,
  type CardRef,
  type RoomDetail,
  type RoomEvent,
  type Target,
  type TargetStage,
  type Task,
  type TaskStatus,
} from '@/api/warrooms'
import { isChatEvent, useRoomHistory } from './history'
import { applyPresence, type PresenceChange } from './presence'
import { type CompactBatch, expandBatch } from './batch'
import { SeqBuffer } from './seqBuffer'
import type { CallNow, Refusal, Stage, TypingNotice, WarRoomSocket } from './socketEvents'

const NS = '/warroom'
const HISTORY = 200 // chat history fetched on opening (the board comes from the snapshot)

const ACK_TIMEOUT_MS = 10_000

export function newClientId(): string {
  if (typeof crypto !== 'undefined' && 'randomUUID' in crypto) return crypto.randomUUID()
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`
}

export function useWarRoom(roomId: number, onProblem: (code: string) => void) {
  const detail = ref<RoomDetail | null>(null)
  const chat = ref<RoomEvent[]>([])
  const pending = ref<{ client_id: string; text: string; cards: CardRef[] }[]>([])
  const timeline = shallowRef<RoomEvent[]>([])
  const tasks = ref<Task[]>([])
  const targets = ref<Target[]>([])
  const online = ref<number[]>([])
  const typing = reactive(new Map<number, { name: string; until: number }>())
  const connected = ref(false)
  const banner = ref<{ kind: 'reconnecting' } | { kind: 'caughtUp'; count: number } | null>(null)
  const removed = ref(false)
  const callNow = shallowRef<CallNow | null>(null) // the room's call as of the last join
  const stage = shallowRef<Stage | null>(null) // what is on the shared stage now
  const joins = ref(0) // counts (re)joins: the call re-joins after the room does
  const error = shallowRef<unknown>(null)
  const removedTargets = new Set<number>()
  let buffer = new SeqBuffer()
  const openedAfter = ref(0) // the live stream applies events after this seq; older ones are paged in
  const history = useRoomHistory(roomId, () => openedAfter.value + 1)
  let socket: WarRoomSocket | null = null
  let joinedOnce = false
  let wasDown = false
  let readTimer: ReturnType<typeof setTimeout> | undefined
  let typingSentAt = 0
  let syncing = false
  const tick = ref(0) // re-evaluates who is still typing
  let ticker: ReturnType<typeof setInterval> | undefined

  function upsert<T extends { id: number; version: number }>(list: T[], item: T): T[] {
    const index = list.findIndex((x) => x.id === item.id)
    if (index === -1) return [...list, item]
    if (list[index].version > item.version) return list // an older replayed state
    const copy = list.slice()
    copy[index] = item
    return copy
  }

  function handle(event: RoomEvent): void {
    const p = event.payload
    // Kept whole, like the chat: the history pages back from where the live stream began, so a
    // trimmed head would leave a hole between the two.
    timeline.value = [...timeline.value, event]
    if (isChatEvent(event)) {
      chat.value = [...chat.value, event]
      if (event.client_id) pending.value = pending.value.filter((m) => m.client_id !== event.client_id)
    } else if ((event.kind === 'target.removed' || event.kind === 'target.declined') && p.target) {
      const gone = p.target.id
      removedTargets.add(gone)
      targets.value = targets.value.filter((target) => target.id !== gone)
    } else if (p.task) {
      tasks.value = upsert(tasks.value, p.task)
    } else if (p.target) {
      // A pending request is broadcast without the customer's name; its RM and the requester keep
      // the name the snapshot gave them.
      const known = targets.value.find((x) => x.id === p.target?.id)
      const incoming = p.target.name === null && known?.name && p.target.consent === 'pending' ? { ...p.target, name: known.name } : p.target
      targets.value = upsert(targets.value, incoming)
    } else if (event.kind.startsWith('member.') || event.kind.startsWith('room.') || event.kind === 'opportunity.linked') {
      void refreshDetail()
    }
  }

  function apply(events: RoomEvent[]): number {
    const { ready, gap } = buffer.push(events)
    ready.forEach(handle)
    if (gap) void sync()
    if (ready.length) scheduleRead()
    return ready.length
  }

  /** The socket with an acknowledgement timeout: every call below is typed by socketEvents.ts. */
  function live() {
    if (!socket) throw new Error('no socket')
    return socket.timeout(ACK_TIMEOUT_MS)
  }

  async function sync(): Promise<void> {
    if (syncing || !socket?.connected) return
    syncing = true
    try {
      let more = true
      while (more) {
        const ack = await live().emitWithAck('sync', { room_id: roomId, after_seq: buffer.lastSeq })
        if (!ack.ok) return
        apply(ack.events)
        more = ack.more
      }
    } finally {
      syncing = false
    }
  }

  async function join(): Promise<void> {
    const before = buffer.lastSeq
    const ack = await live().emitWithAck('join', { room_id: roomId, last_seq: buffer.lastSeq })
    if (!ack.ok) {
      if (ack.code === 'not-a-member') removed.value = true
      return
    }
    online.value = ack.online
    callNow.value = ack.call
    stage.value = ack.stage
    joins.value += 1
    apply(ack.events)
    if (ack.more) await sync()
    if (joinedOnce && wasDown) {
      banner.value = { kind: 'caughtUp', count: buffer.lastSeq - before }
      setTimeout(() => (banner.value = null), 3000)
    }
    joinedOnce = true
    wasDown = false
  }

  async function refreshDetail(): Promise<void> {
    const fresh = await warRoomsApi.get(roomId)
    detail.value = fresh
    if (fresh.tasks) fresh.tasks.forEach((task) => (tasks.value = upsert(tasks.value, task)))
    if (fresh.targets)
      fresh.targets
        .filter((target) => !removedTargets.has(target.id)) // a snapshot read before the removal
        .forEach((target) => (targets.value = upsert(targets.value, target)))
  }

  function scheduleRead(): void {
    clearTimeout(readTimer)
    readTimer = setTimeout(() => {
      if (socket?.connected && document.visibilityState === 'visible')
        void live().emitWithAck('read', { room_id: roomId, seq: buffer.lastSeq }).catch(() => undefined)
    }, 800)
  }

  const onEvent = (event: RoomEvent) => event.room_id === roomId && apply([event])
  const onBatch = (batch: CompactBatch) => batch.room_id === roomId && apply(expandBatch(batch))
  const onPresence = (change: PresenceChange) => {
    if (change.room_id === roomId) online.value = applyPresence(online.value, change)
  }
  const onTyping = (data: TypingNotice) => {
    if (data.room_id !== roomId) return
    if (data.typing) typing.set(data.user.id, { name: data.user.display_name, until: Date.now() + 4000 })
    else typing.delete(data.user.id)
  }
  const onStage = (data: { room_id: number; stage: Stage | null }) => {
    if (data.room_id === roomId) stage.value = data.stage
  }
  const onStagePage = (data: { room_id: number; share_id: string; page: number }) => {
    if (data.room_id === roomId && stage.value?.share_id === data.share_id) stage.value = { ...stage.value, page: data.page }
  }
  const onRemoved = (data: { room_id: number }) => {
    if (data.room_id === roomId) removed.value = true
  }
  const onConnect = () => {
    connected.value = true
    void join()
  }
  // Broadcasts published while the server's message-queue link was down never reached this socket.
  const onResync = () => void sync()
  const onDisconnect = () => {
    connected.value = false
    wasDown = true
    banner.value = { kind: 'reconnecting' }
  }

  async function open(): Promise<void> {
    try {
      detail.value = await warRoomsApi.get(roomId)
      tasks.value = detail.value.tasks ?? []
      targets.value = detail.value.targets ?? []
      openedAfter.value = Math.max(0, detail.value.last_seq - HISTORY)
      buffer = new SeqBuffer(openedAfter.value)
    } catch (err) {
      error.value = err
      return
    }
    ticker = setInterval(() => (tick.value += 1), 1000)
    socket = (await useSocket(NS)) as WarRoomSocket
    socket.on('event', onEvent)
    socket.on('batch', onBatch)
    socket.on('presence', onPresence)
    socket.on('typing', onTyping)
    socket.on('removed', onRemoved)
    socket.on('stage', onStage)
    socket.on('stage_page', onStagePage)
    socket.on('connect', onConnect)
    socket.on('resync', onResync)
    socket.on('disconnect', onDisconnect)
    if (socket.connected) onConnect()
  }

  function close(): void {
    clearTimeout(readTimer)
    clearInterval(ticker)
    if (!socket) return
    if (socket.connected) socket.emit('leave', { room_id: roomId })
    socket.off('event', onEvent)
    socket.off('batch', onBatch)
    socket.off('presence', onPresence)
    socket.off('typing', onTyping)
    socket.off('removed', onRemoved)
    socket.off('stage', onStage)
    socket.off('stage_page', onStagePage)
    socket.off('connect', onConnect)
    socket.off('resync', onResync)
    socket.off('disconnect', onDisconnect)
  }

  async function send(text: string, cards: CardRef[] = [], mentions: number[] = []): Promise<void> {
    const client_id = newClientId()
    pending.value = [...pending.value, { client_id, text, cards }]
    try {
      if (socket?.connected) {
        const ack = await live().emitWithAck('message', { room_id: roomId, text, client_id, cards, mentions })
        if (!ack.ok) {
          pending.value = pending.value.filter((m) => m.client_id !== client_id)
          onProblem(ack.code ?? 'error')
        }
      } else {
        // The socket is down: the same client_id over HTTP, so a later re-send cannot double-post.
        const event = await warRoomsApi.postMessage(roomId, { text, client_id, cards, mentions })
        apply([event])
      }
    } catch {
      pending.value = pending.value.filter((m) => m.client_id !== client_id)
      onProblem('network')
    }
  }

  /** A board change's answer: a refusal is reported (and a stale version refreshes the board). */
  async function settled(ack: { ok: true } | Refusal): Promise<boolean> {
    if (!ack.ok) {
      onProblem(ack.code)
      if (ack.code === 'stale-version') await refreshDetail()
    }
    return ack.ok
  }

  const moveTask = async (task: Task, status: TaskStatus) =>
    settled(
      await live().emitWithAck('task', {
        room_id: roomId,
        client_id: newClientId(),
        task_id: task.id,
        status,
        version: task.version,
      }),
    )
  const createTask = async (item: string, assigneeId: number | null, dueOn: string | null) =>
    settled(
      await live().emitWithAck('task', {
        room_id: roomId,
        client_id: newClientId(),
        item,
        assignee_id: assigneeId,
        due_on: dueOn,
      }),
    )
  const setStage = async (target: Target, stage: TargetStage) =>
    settled(
      await live().emitWithAck('target', {
        room_id: roomId,
        client_id: newClientId(),
        target_id: target.id,
        stage,
        version: target.version,
      }),
    )
  const removeTarget = async (target: Target) =>
    settled(
      await live().emitWithAck('target_remove', {
        room_id: roomId,
        client_id: newClientId(),
        target_id: target.id,
        version: target.version,
      }),
    )

  /** The customer's RM decides a member's request (HTTP; the room hears it as an event). */
  async function decideTarget(target: Target, approve: boolean): Promise<boolean> {
    try {
      if (approve) targets.value = upsert(targets.value, await warRoomsApi.approveTarget(roomId, target.id))
      else {
        await warRoomsApi.declineTarget(roomId, target.id)
        removedTargets.add(target.id)
        targets.value = targets.value.filter((x) => x.id !== target.id)
      }
      return true
    } catch (err) {
      onProblem((err as { code?: string }).code ?? 'error')
      return false
    }
  }

  function typed(): void {
    if (!socket?.connected || Date.now() - typingSentAt < 2500) return
    typingSentAt = Date.now()
    socket.emit('typing', { room_id: roomId, typing: true })
  }

  const typingNames = computed(() => {
    void tick.value
    const now = Date.now()
    return [...typing.values()].filter((t) => t.until > now).map((t) => t.name)
  })

  // Chat and timeline as shown: the pages loaded back through the history, then the live events.
  const chatShown = computed(() => [...history.earlier.value.filter(isChatEvent), ...chat.value])
  const timelineShown = computed(() => [...history.earlier.value, ...timeline.value])

  return {
    detail,
    chat: chatShown,
    timeline: timelineShown,
    history,
    pending,
    tasks,
    targets,
    online,
    typingNames,
    connected,
    banner,
    removed,
    error,
    open,
    close,
    send,
    moveTask,
    createTask,
    setStage,
    removeTarget,
    decideTarget,
    typed,
    refreshDetail,
    lastSeq: () => buffer.lastSeq,
    callNow,
    stage,
    joins,
    /** The room's socket (the call and the stage speak over it), once open. */
    socket: () => socket,
  }
}

/** One open room, as the tabs of WarRoomView receive it. */
export type WarRoom = ReturnType<typeof useWarRoom>
