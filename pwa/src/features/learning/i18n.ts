// The feature's strings join the catalogs when the feature's routes load (they carry the home card
// and tile labels too). English joins once the English catalog is there (it loads on first use).
import { watch } from 'vue'
import { i18n } from '@/i18n'
import { learningZh } from './locale'
import { learningEn } from './locale.en'

type Messages = Record<string, unknown>

export function useLearningLocale(): void {
  const g = i18n.global as unknown as {
    availableLocales: string[]
    getLocaleMessage: (locale: string) => Messages
    mergeLocaleMessage: (locale: string, message: Messages) => void
  }
  if (!('learning' in g.getLocaleMessage('zh-CN'))) g.mergeLocaleMessage('zh-CN', { learning: learningZh })
  if (g.availableLocales.includes('en') && !('learning' in g.getLocaleMessage('en'))) {
    g.mergeLocaleMessage('en', { learning: learningEn })
  }
}

useLearningLocale()
// English arrives later (on first use): join it as soon as the language switches.
watch(
  () => (i18n.global as unknown as { locale: { value: string } }).locale.value,
  () => useLearningLocale(),
)
