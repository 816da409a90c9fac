import type { RouteRecordRaw } from 'vue-router'
import { addTab, addTile } from './roles'

// The tabs every role shell starts with; features add theirs from their own routes files.
addTab(['rm', 'team_lead', 'risk_officer', 'admin'], { key: 'home', to: '/', icon: 'apps-o', label: 'tabs.home', order: 0 })
addTab(['rm', 'team_lead', 'risk_officer', 'admin'], { key: 'me', to: '/me', icon: 'user-o', label: 'tabs.me', order: 100 })
addTile(['rm'], { key: 'warRoom', to: '/war-rooms', icon: 'flag-o', label: 'home.warRoom', order: 40 })
addTab(['rm', 'team_lead'], { key: 'warRooms', to: '/war-rooms', icon: 'flag-o', label: 'tabs.warRooms', order: 30 })

/** The shell itself has no screens of its own. */
export const shellRoutes: RouteRecordRaw[] = []
