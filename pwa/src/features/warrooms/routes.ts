import type { RouteRecordRaw } from 'vue-router'
import type { Role } from '@/api/types'

const PLAYERS: Role[] = ['rm', 'team_lead']

/** The war rooms (作战室): the list, a new room and one room, added to the app router with one spread. */
export const warRoomRoutes: RouteRecordRaw[] = [
  {
    path: '/war-rooms',
    name: 'war-rooms',
    component: () => import('./WarRoomListView.vue'),
    meta: { tab: true, roles: PLAYERS },
  },
  {
    path: '/war-rooms/new',
    name: 'war-room-new',
    component: () => import('./WarRoomCreateView.vue'),
    meta: { roles: PLAYERS },
  },
  {
    path: '/war-rooms/:id(\\d+)',
    name: 'war-room',
    component: () => import('./WarRoomView.vue'),
    props: (route) => ({ id: Number(route.params.id) }),
    meta: { roles: PLAYERS },
  },
]
