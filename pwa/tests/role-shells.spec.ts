import { describe, expect, it } from 'vitest'
import { activeTab, addTab, addTile, tabsFor, tilesFor } from '@/features/shell/roles'
import { allowed, collectRoutes } from '@/router/routes'
import type { RouteRecordRaw } from 'vue-router'

describe('role shells', () => {
  it('shows each role only its own tabs', () => {
    const keys = (role: Parameters<typeof tabsFor>[0]) => tabsFor(role).map((t) => t.key)
    expect(keys('rm')).toEqual(['home', 'customers', 'opportunities', 'warRooms', 'me'])
    expect(keys('team_lead')).toEqual(['home', 'customers', 'teamDesk', 'warRooms', 'me'])
    expect(keys('risk_officer')).toEqual(['home', 'audit', 'conduct', 'me'])
    expect(keys('admin')).toEqual(['home', 'users', 'settings', 'me'])
    expect(keys(null)).toEqual([])
  })

  it('lets a feature add a tab or tile for a role with one line', () => {
    addTab(['risk_officer'], { key: 'conductTest', to: '/conduct-test', icon: 'eye-o', label: 'x', order: 30 })
    expect(tabsFor('risk_officer').map((t) => t.key)).toEqual(['home', 'audit', 'conduct', 'conductTest', 'me'])
    expect(tabsFor('rm').some((t) => t.key === 'conductTest')).toBe(false)
    addTile(['team_lead'], { key: 'prospectsTest', to: '/prospects-test', icon: 'search', label: 'y' })
    expect(tilesFor('team_lead').map((t) => t.key)).toContain('prospectsTest')
    expect(tilesFor('rm').map((t) => t.key)).not.toContain('prospectsTest')
  })

  it('marks the tab a path belongs to (longest match)', () => {
    expect(activeTab('team_lead', '/opportunities/team')).toBe('teamDesk')
    expect(activeTab('rm', '/opportunities/12')).toBe('opportunities')
    expect(activeTab('rm', '/')).toBe('home')
    expect(activeTab('admin', '/admin/settings/policy')).toBe('settings')
  })

  it('guards every screen that is not for everyone', () => {
    expect(allowed({ roles: ['admin'] }, 'rm')).toBe(false)
    expect(allowed({ roles: ['admin'] }, 'admin')).toBe(true)
    expect(allowed({}, 'risk_officer')).toBe(true)
  })

  it('collects every feature routes file', () => {
    const a: RouteRecordRaw[] = [{ path: '/a', component: {} }]
    const b: RouteRecordRaw[] = [{ path: '/b', component: {} }]
    const routes = collectRoutes({ './features/b/routes.ts': { bRoutes: b, helper: 1 }, './features/a/routes.ts': { aRoutes: a } })
    expect(routes.map((r) => r.path)).toEqual(['/a', '/b'])
  })
})

describe('home bodies', () => {
  it('starts a body chunk only for a role that has one', async () => {
    const { loadHomeBody } = await import('@/features/home/bodies')
    // Roles without a body of their own, and names every object inherits, start nothing.
    for (const role of [undefined, '', 'risk_officer', 'admin', 'toString', 'constructor', '__proto__']) {
      expect(() => loadHomeBody(role)).not.toThrow()
    }
  })
})
