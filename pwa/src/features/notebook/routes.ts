import type { RouteRecordRaw } from 'vue-router'

/** The notebook screens (记事本), added to the app router with one spread. */
export const notebookRoutes: RouteRecordRaw[] = [
  { path: '/notes', name: 'notes', component: () => import('./NotesView.vue') },
  { path: '/notes/compose', name: 'note-compose', component: () => import('./NoteEditView.vue') },
  {
    path: '/notes/:id(\\d+)',
    name: 'note',
    component: () => import('./NoteEditView.vue'),
    props: (route) => ({ id: Number(route.params.id) }),
  },
  { path: '/inbox', name: 'inbox', component: () => import('./InboxView.vue') },
  { path: '/settings/notifications', name: 'notify-settings', component: () => import('./NotifySettingsView.vue') },
]
