import type { RouteRecordRaw } from 'vue-router'
import { addTab, addTile } from '@/features/shell/roles'

addTab(['rm', 'team_lead'], { key: 'customers', to: '/customers', icon: 'friends-o', label: 'tabs.customers', order: 10 })
addTile(['rm'], { key: 'customers', to: '/customers', icon: 'search', label: 'home.findCustomer', order: 20 })

export const customerRoutes: RouteRecordRaw[] = [
  {
    path: '/customers',
    name: 'customers',
    component: () => import('./CustomersView.vue'),
    meta: { tab: true, roles: ['rm', 'team_lead'] },
  },
  {
    path: '/customers/:id(\\d+)',
    name: 'customer',
    component: () => import('./CustomerDetailView.vue'),
    props: (route) => ({ id: Number(route.params.id) }),
    meta: { roles: ['rm', 'team_lead'] },
  },
]
