// The one Socket.IO client. socket.io-client is loaded on first use only (it is not part of the
// shell), one Manager is shared by every namespace, and sign-out closes it.
import { shallowRef } from 'vue'
import type { Manager, Socket } from 'socket.io-client'
import type { NamespaceEvents } from './socketEvents'

/** The typed socket of a known namespace (/inbox, /feed); others get the untyped one. */
export type TypedSocket<N extends keyof NamespaceEvents> = Socket<NamespaceEvents[N]['listen'], NamespaceEvents[N]['emit']>

let manager: Manager | null = null
const sockets = new Map<string, Socket>()
export const socketConnected = shallowRef(false)
const dropListeners = new Set<() => void>()

/** Called when the server itself closes a socket (the session ended: logout elsewhere, the account
 *  disabled): the app checks its session and, if it is gone, returns to sign-in at once. */
export function onServerDisconnect(listener: () => void): () => void {
  dropListeners.add(listener)
  return () => dropListeners.delete(listener)
}

async function getManager(): Promise<Manager> {
  if (!manager) {
    const { Manager: SocketManager } = await import('socket.io-client')
    manager = new SocketManager(window.location.origin, {
      path: '/socket.io',
      transports: ['websocket', 'polling'],
      withCredentials: true,
      reconnectionDelayMax: 10_000,
    })
    manager.on('open', () => (socketConnected.value = true))
    manager.on('close', () => (socketConnected.value = false))
  }
  return manager
}

/** A connected socket for a namespace such as '/warroom', '/feed' or '/inbox'. */
export async function useSocket<N extends keyof NamespaceEvents>(namespace: N, auth?: Record<string, unknown>): Promise<TypedSocket<N>>
export async function useSocket(namespace: string, auth?: Record<string, unknown>): Promise<Socket>
export async function useSocket(namespace: string, auth?: Record<string, unknown>): Promise<Socket> {
  const existing = sockets.get(namespace)
  if (existing) return existing
  const socket = (await getManager()).socket(namespace, auth ? { auth } : {})
  sockets.set(namespace, socket)
  socket.on('disconnect', (reason) => {
    if (reason === 'io server disconnect') dropListeners.forEach((fn) => fn())
  })
  // The Manager auto-connects a new namespace socket; a second CONNECT on an open engine would be
  // refused by the server, and socket.io-client tears the socket down on that refusal.
  if (!socket.active) socket.connect()
  return socket
}

export function disconnectSockets(): void {
  sockets.forEach((socket) => socket.disconnect())
  sockets.clear()
  manager?.engine?.close()
  manager = null
  socketConnected.value = false
}
