// The role's own part of the home page, each in its own chunk so a role ships only what it uses.
// `loadHomeBody` starts the download as soon as the signed-in role is known (main.ts), so the
// chunk's stylesheet and module links are added then, in a task of their own, and not in the
// first render's.
import type { Component } from 'vue'

type Loader = () => Promise<{ default: Component }>

export const HOME_BODIES = {
  rm: () => import('./RmHome.vue'),
  team_lead: () => import('@/features/team/TeamHome.vue'),
} satisfies Record<string, Loader>

function hasBody(role: string): role is keyof typeof HOME_BODIES {
  return Object.prototype.hasOwnProperty.call(HOME_BODIES, role)
}

export function loadHomeBody(role: string | undefined): void {
  if (role && hasBody(role)) void HOME_BODIES[role]()
}
