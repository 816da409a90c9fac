// The role shells: which tabs and home tiles each role sees. A feature adds its own entry point with
// one line in its routes file, e.g.
//   addTab(['risk_officer'], { key: 'conduct', to: '/conduct', icon: 'eye-o', label: 'conduct.tab', order: 20 })
//   addTile(['team_lead'], { key: 'prospects', to: '/prospects', icon: 'search', label: 'prospects.tile' })
// and guards its routes with `meta: { roles: [...] }`; nobody is shown a tab or tile they cannot use.
import { shallowReactive } from 'vue'
import type { Role } from '@/api/types'

export const ROLES: readonly Role[] = ['rm', 'team_lead', 'risk_officer', 'admin']

export interface ShellEntry {
  /** Unique per role; also the `data-testid` suffix (tab-<key>, tile-<key>). */
  key: string
  to: string
  /** A Vant icon name. */
  icon: string
  /** A catalog key. */
  label: string
  /** Lower first; the 我的 tab sits at 100. */
  order?: number
}

type Shelf = Record<Role, ShellEntry[]>

// Shallow: a role's list is replaced whole on each change, so the routes files' forty-odd additions
// at start-up cost one plain sort each, not a reactive proxy's trap per element read and moved.
const empty = (): Shelf => ({ rm: [], team_lead: [], risk_officer: [], admin: [] })
export const tabsByRole = shallowReactive<Shelf>(empty())
export const tilesByRole = shallowReactive<Shelf>(empty())

function add(shelf: Shelf, roles: readonly Role[], entry: ShellEntry): void {
  for (const role of roles) {
    const list = [...shelf[role]]
    const at = list.findIndex((e) => e.key === entry.key)
    if (at >= 0) list[at] = entry
    else list.push(entry)
    shelf[role] = list.sort((a, b) => (a.order ?? 50) - (b.order ?? 50))
  }
}

/** Adds a tab to the bottom bar of the given roles (five at most fit at 375 px). */
export function addTab(roles: readonly Role[], entry: ShellEntry): void {
  add(tabsByRole, roles, entry)
}

/** Adds a quick-link tile to the home of the given roles. */
export function addTile(roles: readonly Role[], entry: ShellEntry): void {
  add(tilesByRole, roles, entry)
}

export const kebab = (key: string): string => key.replace(/[A-Z]/g, (m) => `-${m.toLowerCase()}`)

export function tabsFor(role: Role | undefined | null): ShellEntry[] {
  return role ? tabsByRole[role] : []
}

export function tilesFor(role: Role | undefined | null): ShellEntry[] {
  return role ? tilesByRole[role] : []
}

/** The tab (by key) a path belongs to for this role: the longest matching tab path. */
export function activeTab(role: Role | undefined | null, path: string): string | null {
  let best: ShellEntry | null = null
  for (const tab of tabsFor(role)) {
    const hit = tab.to === '/' ? path === '/' : path === tab.to || path.startsWith(`${tab.to}/`)
    if (hit && (!best || tab.to.length > best.to.length)) best = tab
  }
  return best?.key ?? null
}
