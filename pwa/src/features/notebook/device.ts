// A push device as a person recognises it ("Android · Chrome", "iPhone · Safari"): the server sends
// platform and browser codes, this words them in the UI language. Codes it does not know (a newer
// server) read as the generic words, never as the code itself.
import type { DeviceKind } from '@/api/notebook'

type Translate = (key: string) => string
type Has = (key: string) => boolean

const BASE = 'notebook.settings.device'

export function deviceLabel(device: DeviceKind, t: Translate, te: Has): string {
  const word = (group: 'platforms' | 'browsers', code: string) =>
    te(`${BASE}.${group}.${code}`) ? t(`${BASE}.${group}.${code}`) : t(`${BASE}.${group}.other`)
  const known = (group: 'platforms' | 'browsers', code: string) => code !== 'other' && te(`${BASE}.${group}.${code}`)
  if (!known('platforms', device.platform) && !known('browsers', device.browser)) return t(`${BASE}.unknown`)
  return `${word('platforms', device.platform)} · ${word('browsers', device.browser)}`
}
