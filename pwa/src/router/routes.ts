import type { RouteRecordRaw } from 'vue-router'
import type { Role } from '@/api/types'

declare module 'vue-router' {
  interface RouteMeta {
    public?: boolean
    /** Shows the role's tab bar on this screen. */
    tab?: boolean
    title?: string
    /** Only these roles may open the screen (others land on their home); absent: every signed-in role. */
    roles?: readonly Role[]
  }
}

/** Every feature's `routes.ts` (eagerly: they are small and only point at lazily loaded screens).
 *  A feature adds its screens, and its tabs and tiles (features/shell/roles.ts), in that one file. */
const featureRouteModules = import.meta.glob<Record<string, unknown>>('../features/*/routes.ts', { eager: true })

export function collectRoutes(modules: Record<string, Record<string, unknown>>): RouteRecordRaw[] {
  return Object.keys(modules)
    .sort()
    .flatMap((file) => Object.values(modules[file]).filter(Array.isArray).flat() as RouteRecordRaw[])
}

export const routes: RouteRecordRaw[] = [
  ...collectRoutes(featureRouteModules),
  { path: '/:pathMatch(.*)*', redirect: '/' },
]

/** May this role open the route? (The server decides again per object.) */
export function allowed(meta: { roles?: readonly Role[] }, role: Role | undefined): boolean {
  return !meta.roles || (role !== undefined && meta.roles.includes(role))
}

