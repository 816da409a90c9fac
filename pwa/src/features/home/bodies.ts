// The role's own part of the home page, each in its own chunk so a role ships only what it uses.
// `loadHomeBody` starts the download as soon as the signed-in role is known (main.ts), so the
// chunk's stylesheet and module links are added then, in a task of their own, and not in the
// first render's.
import type { Component } from 'vue'

type Loader = () => Promise<{ default: Component }>

export const HOME_BODIES: Partial<Record<string, Loader>> = {
  rm: () => import('./RmHome.vue'),
  team_lead: () => import('@/features/team/TeamHome.vue'),
}

export function loadHomeBody(role: string | undefined): void {
  const load = role ? HOME_BODIES[role] : undefined
  if (load) void load()
}
