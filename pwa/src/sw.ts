/// <reference lib="webworker" />
// The service worker: precaches the shell, serves index.html for client-side routes, caches API
// reads network-first (never a response marked no-store: personal data stays out of Cache Storage;
// the app keeps its own sealed copies), shows push hints and opens their link, and re-subscribes
// when the push service rotates the subscription.
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from 'workbox-precaching'
import { NavigationRoute, registerRoute } from 'workbox-routing'
import { NetworkFirst } from 'workbox-strategies'
import { ExpirationPlugin } from 'workbox-expiration'
import type { WorkboxPlugin } from 'workbox-core'

declare let self: ServiceWorkerGlobalScope & { __WB_MANIFEST: Array<string | { url: string; revision: string | null }> }

const API_CACHE = 'api-v1'

precacheAndRoute(self.__WB_MANIFEST)
cleanupOutdatedCaches()

registerRoute(
  new NavigationRoute(createHandlerBoundToURL('index.html'), {
    denylist: [/^\/api\//, /^\/socket\.io\//, /^\/apidocs/, /^\/healthz/],
  }),
)

const respectNoStore: WorkboxPlugin = {
  cacheWillUpdate: async ({ response }) => {
    if (!response || response.status !== 200) return null
    if (/no-store|private/i.test(response.headers.get('Cache-Control') || '')) return null
    return response
  },
}

const offlineAnswer: WorkboxPlugin = {
  // Network down and nothing cached: answer like the server would, marked so the app knows.
  handlerDidError: async () =>
    new Response(
      JSON.stringify({ type: 'about:blank', title: 'Offline', status: 503, code: 'offline', detail: 'No network.' }),
      { status: 503, headers: { 'Content-Type': 'application/problem+json', 'X-Zhanye-Offline': '1' } },
    ),
}

registerRoute(
  ({ url, request }) =>
    url.origin === self.location.origin && url.pathname.startsWith('/api/v1/') && request.method === 'GET',
  new NetworkFirst({
    cacheName: API_CACHE,
    networkTimeoutSeconds: 8,
    plugins: [respectNoStore, offlineAnswer, new ExpirationPlugin({ maxEntries: 200, maxAgeSeconds: 7 * 24 * 3600 })],
  }),
)

self.addEventListener('message', (event) => {
  if (event.data && event.data.type === 'SKIP_WAITING') void self.skipWaiting()
})

interface PushHint {
  title?: string
  body?: string
  url?: string
  tag?: string
}

self.addEventListener('push', (event) => {
  let hint: PushHint = {}
  try {
    hint = event.data ? (event.data.json() as PushHint) : {}
  } catch {
    hint = { body: event.data?.text() }
  }
  const title = hint.title || '展业'
  event.waitUntil(
    self.registration.showNotification(title, {
      body: hint.body || '',
      icon: '/icons/icon-192.png',
      badge: '/icons/icon-192.png',
      tag: hint.tag,
      data: { url: hint.url || '/' },
    }),
  )
})

self.addEventListener('notificationclick', (event) => {
  event.notification.close()
  const raw = (event.notification.data && event.notification.data.url) || '/'
  const target = new URL(raw, self.location.origin)
  // Only open pages of this app.
  const url = target.origin === self.location.origin ? target.href : self.location.origin + '/'
  event.waitUntil(
    (async () => {
      const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true })
      for (const client of windows) {
        // Navigate first: focusing may be refused (no user activation), the deep link must not be.
        const opened = client.url === url ? client : await client.navigate(url).catch(() => null)
        if (!opened) continue
        await opened.focus().catch(() => undefined)
        return
      }
      await self.clients.openWindow(url)
    })(),
  )
})

function urlBase64ToUint8Array(base64: string): Uint8Array<ArrayBuffer> {
  const padding = '='.repeat((4 - (base64.length % 4)) % 4)
  const raw = atob((base64 + padding).replace(/-/g, '+').replace(/_/g, '/'))
  const out = new Uint8Array(new ArrayBuffer(raw.length))
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i)
  return out
}

async function resubscribe(event: PushSubscriptionChangeEvent): Promise<void> {
  let subscription = event.newSubscription
  if (!subscription) {
    const keyResponse = await fetch('/api/v1/push/vapid-public-key', { credentials: 'same-origin' })
    if (!keyResponse.ok) return
    const { public_key } = (await keyResponse.json()) as { public_key: string }
    subscription = await self.registration.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: urlBase64ToUint8Array(public_key),
    })
  }
  // The worker has no page state: the CSRF token comes from the session the cookie names.
  const me = await fetch('/api/v1/me', { credentials: 'same-origin', headers: { Accept: 'application/json' } })
  if (!me.ok) return
  const { csrf_token } = (await me.json()) as { csrf_token: string }
  const headers = { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf_token }
  await fetch('/api/v1/push/subscriptions', {
    method: 'POST',
    credentials: 'same-origin',
    headers,
    body: JSON.stringify(subscription.toJSON()),
  })
  // The old endpoint is dead: forget it now rather than at its first 410.
  const old = event.oldSubscription
  if (old && old.endpoint !== subscription.endpoint) {
    await fetch('/api/v1/push/subscriptions', {
      method: 'DELETE',
      credentials: 'same-origin',
      headers,
      body: JSON.stringify({ endpoint: old.endpoint }),
    })
  }
}

self.addEventListener('pushsubscriptionchange', (event) => {
  const change = event as PushSubscriptionChangeEvent
  change.waitUntil(resubscribe(change))
})
