import type { RouteRecordRaw } from 'vue-router'
// The home screen is the start URL: it ships with the shell, every other screen loads on demand.
import HomeView from './HomeView.vue'

export const homeRoutes: RouteRecordRaw[] = [{ path: '/', name: 'home', component: HomeView, meta: { tab: true } }]
