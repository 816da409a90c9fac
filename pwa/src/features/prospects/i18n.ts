// The feature's strings join the catalogs when one of its screens loads, so the home page's bundle
// carries none of them. English joins once the English catalog is there (it loads on first use).
import { i18n } from '@/i18n'
import { prospectsZh } from './locale'
import { prospectsEn } from './locale.en'

type Messages = Record<string, unknown>

export function useProspectsLocale(): void {
  const g = i18n.global as unknown as {
    availableLocales: string[]
    getLocaleMessage: (locale: string) => Messages
    mergeLocaleMessage: (locale: string, message: Messages) => void
  }
  if (!('prospects' in g.getLocaleMessage('zh-CN'))) g.mergeLocaleMessage('zh-CN', { prospects: prospectsZh })
  if (g.availableLocales.includes('en') && !('prospects' in g.getLocaleMessage('en'))) {
    g.mergeLocaleMessage('en', { prospects: prospectsEn })
  }
}

useProspectsLocale()
