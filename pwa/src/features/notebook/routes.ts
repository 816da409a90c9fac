import type { RouteRecordRaw } from 'vue-router'
import { addTile } from '@/features/shell/roles'

addTile(['rm'], { key: 'newNote', to: '/notes/new', icon: 'edit', label: 'home.newNote', order: 10 })
addTile(['team_lead', 'risk_officer'], { key: 'notes', to: '/notes', icon: 'notes-o', label: 'shell.tiles.notes', order: 90 })

/** The notebook screens (记事本), added to the app router with one spread. */
export const notebookRoutes: RouteRecordRaw[] = [
  { path: '/notes', name: 'notes', component: () => import('./NotesView.vue') },
  // One compose screen for every way in: the home shortcut and the manifest's shortcut (/notes/new),
  // the notebook's button and older links (/notes/compose), a customer's page (?customer=<id>).
  {
    path: '/notes/new',
    alias: '/notes/compose',
    name: 'note-new',
    component: () => import('./NoteEditView.vue'),
  },
  {
    path: '/notes/:id(\\d+)',
    name: 'note',
    component: () => import('./NoteEditView.vue'),
    props: (route) => ({ id: Number(route.params.id) }),
  },
  { path: '/inbox', name: 'inbox', component: () => import('./InboxView.vue') },
  { path: '/settings/notifications', name: 'notify-settings', component: () => import('./NotifySettingsView.vue') },
]
