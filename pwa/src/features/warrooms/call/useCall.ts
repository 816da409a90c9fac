// The room's audio call (远程连线): a WebRTC mesh of at most four, signalled over the room's
// /warroom socket. The joiner offers to everyone already in the call; an offer from a member always
// replaces any connection we had with them (they re-joined after a drop), so there is no glare.
// Field conditions: the quality watch steps down to low-bitrate audio, then to chat only (the
// room stays open); a reconnected socket re-joins the call by itself; the screen stays on.
import { computed, reactive, ref, shallowRef, watch } from 'vue'
import type { CallMedia, CallPeer, CallQuality, CallSignal, WarRoomSocket } from '../socketEvents'
import type { WarRoom } from '../useWarRoom'
import { nextQuality, type QualityState } from './quality'

const ACK_MS = 10_000
const WATCH_MS = 2000
const LOW_BITRATE = 12_000 // bits/s: speech stays intelligible on a weak link
const SPEAKING_LEVEL = 0.02 // RMS of the analyser's samples

export interface CallMember {
  userId: number
  muted: boolean
  quality: CallQuality
  state: RTCPeerConnectionState | 'new'
}

interface Peer {
  pc: RTCPeerConnection
  audio: HTMLAudioElement
  pendingCandidates: RTCIceCandidateInit[]
  lost: number // packetsLost at the last watch
  received: number
}

type WakeLockSentinelLike = { release: () => Promise<void> }

export function useCall(room: WarRoom, roomId: number, myId: () => number | undefined, onProblem: (code: string) => void) {
  const inCall = ref(false)
  const joining = ref(false)
  const muted = ref(false)
  const quality = ref<CallQuality>('good')
  const members = reactive(new Map<number, CallMember>())
  const speaking = reactive(new Set<number>())
  const startedAt = ref<number | null>(null)
  const outputs = shallowRef<MediaDeviceInfo[]>([])
  const output = ref('')
  const peers = new Map<number, Peer>()
  let iceServers: RTCIceServer[] = []
  let local: MediaStream | null = null
  let want = false // the member wants to be in the call: a reconnect re-joins
  let wakeLock: WakeLockSentinelLike | null = null
  let watcher: ReturnType<typeof setInterval> | undefined
  let audioContext: AudioContext | null = null
  const analysers = new Map<number, AnalyserNode>()
  let link: QualityState = { quality: 'good', bad: 0, good: 0 }

  const sock = () => room.socket() as WarRoomSocket | null
  const live = () => {
    const socket = sock()
    if (!socket) throw new Error('no socket')
    return socket.timeout(ACK_MS)
  }

  // --- peers -------------------------------------------------------------------------------------

  function track(userId: number, stream: MediaStream): void {
    if (!audioContext) return
    const source = audioContext.createMediaStreamSource(stream)
    const analyser = audioContext.createAnalyser()
    analyser.fftSize = 512
    source.connect(analyser)
    analysers.set(userId, analyser)
  }

  function newPeer(userId: number): Peer {
    closePeer(userId)
    const pc = new RTCPeerConnection({ iceServers })
    const audio = new Audio()
    audio.autoplay = true
    if (output.value) void (audio as HTMLAudioElement & { setSinkId?: (id: string) => Promise<void> }).setSinkId?.(output.value)
    const peer: Peer = { pc, audio, pendingCandidates: [], lost: 0, received: 0 }
    local?.getTracks().forEach((t) => pc.addTrack(t, local as MediaStream))
    pc.onicecandidate = (e) => {
      // The end of candidates needs no message: browsers finish without it.
      if (e.candidate) void signal(userId, { candidate: e.candidate.toJSON() })
    }
    pc.ontrack = (e) => {
      const [stream] = e.streams
      audio.srcObject = stream
      void audio.play().catch(() => undefined)
      track(userId, stream)
    }
    pc.onconnectionstatechange = () => {
      const m = members.get(userId)
      if (m) m.state = pc.connectionState
      // A broken link is rebuilt by the member with the lower id, so only one side offers.
      if (pc.connectionState === 'failed' && (myId() ?? 0) < userId && inCall.value) void offer(userId)
    }
    peers.set(userId, peer)
    if (!members.has(userId)) members.set(userId, { userId, muted: false, quality: 'good', state: 'new' })
    return peer
  }

  function closePeer(userId: number): void {
    const peer = peers.get(userId)
    if (!peer) return
    peer.pc.close()
    peer.audio.srcObject = null
    peers.delete(userId)
    analysers.delete(userId)
  }

  async function signal(to: number, body: { description?: RTCSessionDescriptionInit; candidate?: RTCIceCandidateInit }) {
    try {
      const data = { room_id: roomId, to_user_id: to, ...body } as Parameters<WarRoomSocket['emit']>[1] & object
      const ack = await live().emitWithAck('call_signal', data as never)
      if (!ack.ok && ack.code !== 'peer-gone') onProblem(ack.code)
    } catch {
      /* the socket dropped: the re-join sets the call up again */
    }
  }

  async function offer(userId: number): Promise<void> {
    const peer = newPeer(userId)
    const description = await peer.pc.createOffer()
    await peer.pc.setLocalDescription(description)
    await signal(userId, { description: { type: 'offer', sdp: description.sdp ?? '' } })
  }

  async function onSignal(data: CallSignal): Promise<void> {
    if (data.room_id !== roomId || !inCall.value) return
    const from = data.from_user_id
    if (data.description?.type === 'offer') {
      const peer = newPeer(from) // an offer replaces whatever we had with them
      await peer.pc.setRemoteDescription(data.description)
      const answer = await peer.pc.createAnswer()
      await peer.pc.setLocalDescription(answer)
      await signal(from, { description: { type: 'answer', sdp: answer.sdp ?? '' } })
      await flushCandidates(peer)
    } else if (data.description?.type === 'answer') {
      const peer = peers.get(from)
      if (!peer || peer.pc.signalingState !== 'have-local-offer') return
      await peer.pc.setRemoteDescription(data.description)
      await flushCandidates(peer)
    } else if (data.candidate) {
      const peer = peers.get(from)
      if (!peer) return
      if (peer.pc.remoteDescription) await peer.pc.addIceCandidate(data.candidate).catch(() => undefined)
      else peer.pendingCandidates.push(data.candidate)
    }
  }

  async function flushCandidates(peer: Peer): Promise<void> {
    for (const c of peer.pendingCandidates.splice(0)) await peer.pc.addIceCandidate(c).catch(() => undefined)
  }

  const onSignalEvent = (data: CallSignal) => void onSignal(data)

  function onPeer(data: CallPeer): void {
    if (data.room_id !== roomId) return
    if (data.joined) {
      if (!members.has(data.user_id)) members.set(data.user_id, { userId: data.user_id, muted: false, quality: 'good', state: 'new' })
    } else {
      closePeer(data.user_id) // leaving ends the peer at once
      members.delete(data.user_id)
      speaking.delete(data.user_id)
    }
  }

  function onMedia(data: CallMedia): void {
    const m = members.get(data.user_id)
    if (data.room_id !== roomId || !m) return
    m.muted = data.muted
    m.quality = data.quality
  }

  // --- joining and leaving -----------------------------------------------------------------------

  async function join(): Promise<boolean> {
    if (joining.value) return false
    joining.value = true
    want = true
    try {
      if (!local) {
        local = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true }, video: false })
        local.getAudioTracks().forEach((t) => (t.enabled = !muted.value))
      }
      audioContext ??= new AudioContext()
      const me = myId()
      if (me !== undefined && !analysers.has(me)) track(me, local)
      const ack = await live().emitWithAck('call_join', { room_id: roomId })
      if (!ack.ok) {
        onProblem(ack.code)
        if (ack.code === 'call-full' || ack.code === 'not-a-member') stop()
        return false
      }
      iceServers = ack.ice_servers
      startedAt.value = ack.started_at
      inCall.value = true
      quality.value = 'good'
      link = { quality: 'good', bad: 0, good: 0 }
      for (const id of [...members.keys()]) if (!ack.peers.includes(id)) members.delete(id)
      await Promise.all((ack.peers as number[]).map((id: number) => offer(id)))
      if (muted.value) void sendMedia()
      startWatch()
      void keepScreenOn()
      void listOutputs()
      return true
    } catch (err) {
      onProblem((err as DOMException)?.name === 'NotAllowedError' ? 'mic-denied' : 'network')
      return false
    } finally {
      joining.value = false
    }
  }

  function hangUpMedia(): void {
    for (const id of [...peers.keys()]) closePeer(id)
    members.clear()
    speaking.clear()
    inCall.value = false
    clearInterval(watcher)
  }

  function stop(): void {
    want = false
    hangUpMedia()
    local?.getTracks().forEach((t) => t.stop())
    local = null
    analysers.clear()
    void audioContext?.close().catch(() => undefined)
    audioContext = null
    void wakeLock?.release().catch(() => undefined)
    wakeLock = null
  }

  async function leave(): Promise<void> {
    const socket = sock()
    stop()
    if (socket?.connected) await live().emitWithAck('call_leave', { room_id: roomId }).catch(() => undefined)
  }

  async function sendMedia(): Promise<void> {
    if (!inCall.value) return
    await live()
      .emitWithAck('call_media', { room_id: roomId, muted: muted.value, quality: quality.value })
      .catch(() => undefined)
  }

  function toggleMute(): void {
    muted.value = !muted.value
    local?.getAudioTracks().forEach((t) => (t.enabled = !muted.value))
    void sendMedia()
  }

  // --- field conditions --------------------------------------------------------------------------

  async function keepScreenOn(): Promise<void> {
    const nav = navigator as Navigator & { wakeLock?: { request: (type: 'screen') => Promise<WakeLockSentinelLike> } }
    if (!nav.wakeLock || wakeLock || document.visibilityState !== 'visible') return
    try {
      wakeLock = await nav.wakeLock.request('screen')
    } catch {
      wakeLock = null // e.g. battery saver: the call goes on, the screen may dim
    }
  }
  const onVisible = () => {
    if (document.visibilityState === 'visible' && inCall.value) {
      wakeLock = null // the browser released it when the page was hidden
      void keepScreenOn()
    }
  }

  /** Headphones, earpiece or speaker: where the browser lets a page choose (setSinkId). */
  async function listOutputs(): Promise<void> {
    if (!('setSinkId' in HTMLMediaElement.prototype)) return
    outputs.value = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === 'audiooutput')
  }
  function chooseOutput(deviceId: string): void {
    output.value = deviceId
    peers.forEach((p) => void (p.audio as HTMLAudioElement & { setSinkId?: (id: string) => Promise<void> }).setSinkId?.(deviceId))
  }

  async function setBitrate(maxBitrate: number | undefined): Promise<void> {
    for (const peer of peers.values())
      for (const sender of peer.pc.getSenders()) {
        const params = sender.getParameters()
        if (!params.encodings?.length) continue
        params.encodings[0].maxBitrate = maxBitrate
        await sender.setParameters(params).catch(() => undefined)
      }
  }

  /** Every 2 s: loss and round trip, stepped by nextQuality (quality.ts): a weak link goes to
   *  low-bitrate audio, a hopeless one to chat (the call is left, the room kept). */
  function startWatch(): void {
    clearInterval(watcher)
    watcher = setInterval(() => void checkQuality(), WATCH_MS)
  }

  async function checkQuality(): Promise<void> {
    let lossRate = 0
    let rtt = 0
    for (const peer of peers.values()) {
      const stats = await peer.pc.getStats()
      stats.forEach((s) => {
        if (s.type === 'inbound-rtp' && s.kind === 'audio') {
          const lost = (s.packetsLost ?? 0) - peer.lost
          const got = (s.packetsReceived ?? 0) - peer.received
          peer.lost = s.packetsLost ?? 0
          peer.received = s.packetsReceived ?? 0
          if (lost + got > 0) lossRate = Math.max(lossRate, lost / (lost + got))
        } else if (s.type === 'candidate-pair' && s.state === 'succeeded' && s.currentRoundTripTime) {
          rtt = Math.max(rtt, s.currentRoundTripTime)
        }
      })
    }
    const connection = (navigator as Navigator & { connection?: { effectiveType?: string } }).connection
    const slow = connection?.effectiveType === 'slow-2g' || connection?.effectiveType === '2g'
    const before = quality.value
    link = nextQuality({ ...link, quality: before }, { lossRate, rtt, slow })
    if (link.quality === before) return
    if (link.quality === 'chat') return void degradeToChat()
    quality.value = link.quality
    await setBitrate(link.quality === 'audio' ? LOW_BITRATE : undefined)
    void sendMedia()
  }

  async function degradeToChat(): Promise<void> {
    quality.value = 'chat'
    await sendMedia()
    stop() // the microphone and the screen lock too: chat needs neither
    await live().emitWithAck('call_leave', { room_id: roomId }).catch(() => undefined)
  }

  /** Back to audio from chat mode (the member taps 恢复语音, or the network came back). */
  async function restore(): Promise<void> {
    if (quality.value !== 'chat') return
    quality.value = 'good'
    await join()
  }
  const onOnline = () => void restore()

  function measureSpeaking(): void {
    for (const [userId, analyser] of analysers) {
      const samples = new Float32Array(analyser.fftSize)
      analyser.getFloatTimeDomainData(samples)
      const rms = Math.sqrt(samples.reduce((sum, v) => sum + v * v, 0) / samples.length)
      const isMe = userId === myId()
      const loud = rms > SPEAKING_LEVEL && !(isMe && muted.value) && !members.get(userId)?.muted
      if (loud) speaking.add(userId)
      else speaking.delete(userId)
    }
  }
  const speakingTimer = setInterval(measureSpeaking, 250)

  // A reconnected socket has joined the room again (useWarRoom counts joins): re-join the call.
  watch(room.joins, (count) => {
    if (count > 1 && want && quality.value !== 'chat') {
      hangUpMedia()
      void join()
    }
  })

  // Removed from the room: out of the call too (the others have closed their side already).
  watch(room.removed, (gone) => gone && stop())

  function attach(): void {
    const socket = sock()
    socket?.on('call_peer', onPeer)
    socket?.on('call_signal', onSignalEvent)
    socket?.on('call_media', onMedia)
    document.addEventListener('visibilitychange', onVisible)
    window.addEventListener('online', onOnline)
  }

  function detach(): void {
    const socket = sock()
    socket?.off('call_peer', onPeer)
    socket?.off('call_signal', onSignalEvent)
    socket?.off('call_media', onMedia)
    document.removeEventListener('visibilitychange', onVisible)
    window.removeEventListener('online', onOnline)
    clearInterval(speakingTimer)
    if (inCall.value) void leave()
    else stop()
  }

  const others = computed(() => [...members.values()])

  return {
    inCall,
    joining,
    muted,
    quality,
    others,
    speaking,
    startedAt,
    outputs,
    output,
    attach,
    detach,
    join,
    leave,
    toggleMute,
    restore,
    chooseOutput,
  }
}

export type Call = ReturnType<typeof useCall>
