import { createI18n } from 'vue-i18n'
import { compile, type MessageCompiler, type MessageContext } from '@intlify/core-base'
import { Locale } from 'vant'
import zhCN, { type Catalog } from '@/locales/zh-CN'
import { setFormatLocale } from '@/lib/format'

export const LOCALES = ['zh-CN', 'en'] as const
export type AppLocale = (typeof LOCALES)[number]
export const LOCALE_KEY = 'zhanye.locale'

/** Most catalog strings are plain text, and parsing each one on first use was most of what the
 *  first render spent on its translations. A plain string (no `{}` placeholder, `@:` link or `|`
 *  plural) read as text is returned as it is; everything else goes through vue-i18n's compiler. */
const PLAIN_TEXT = /^[^{}@|%]*$/
export const messageCompiler: MessageCompiler = (message, context) =>
  typeof message === 'string' && PLAIN_TEXT.test(message)
    ? (ctx: MessageContext<string>) => (ctx.type === 'text' ? message : compile(message, context)(ctx))
    : compile(message, context)

export const i18n = createI18n<[Catalog], AppLocale, false>({
  legacy: false,
  locale: 'zh-CN',
  fallbackLocale: 'zh-CN',
  messageCompiler,
  messages: { 'zh-CN': zhCN } as Record<AppLocale, Catalog>,
})

export function storedLocale(): AppLocale {
  try {
    const value = localStorage.getItem(LOCALE_KEY)
    return (LOCALES as readonly string[]).includes(value ?? '') ? (value as AppLocale) : 'zh-CN'
  } catch {
    return 'zh-CN'
  }
}

/** Switches the UI language (loading the English catalog on first use) and remembers it. */
export async function setLocale(locale: AppLocale): Promise<void> {
  if (locale === 'en' && !i18n.global.availableLocales.includes('en')) {
    const [{ default: en }, { default: vantEn }] = await Promise.all([
      import('@/locales/en'),
      import('vant/es/locale/lang/en-US'),
    ])
    i18n.global.setLocaleMessage('en', en)
    Locale.add({ 'en-US': vantEn })
  }
  i18n.global.locale.value = locale
  setFormatLocale(locale)
  Locale.use(locale === 'en' ? 'en-US' : 'zh-CN')
  document.documentElement.lang = locale
  try {
    localStorage.setItem(LOCALE_KEY, locale)
  } catch {
    /* private mode: not remembered */
  }
}
