import { createI18n } from 'vue-i18n'
import type { MessageCompiler, MessageContext } from '@intlify/core-base'
import { Locale } from 'vant'
import zhCN, { type Catalog } from '@/locales/zh-CN'
import { setFormatLocale } from '@/lib/format'

export const LOCALES = ['zh-CN', 'en'] as const
export type AppLocale = (typeof LOCALES)[number]
export const LOCALE_KEY = 'zhanye.locale'

/** The catalogs' messages are plain text, text with `{name}` / `{0}` placeholders, and text with
 *  `{'@'}`-style literals: that is all the syntax they use, so the app compiles them itself and the
 *  build leaves vue-i18n's message parser out (`__INTLIFY_DROP_MESSAGE_COMPILER__` in vite.config.ts;
 *  it was the largest module the first screen downloaded and compiled). A plain string is returned as
 *  it is; one with placeholders or literals is split once and filled as vue-i18n's own compiled
 *  message fills it (each value through `interpolate`, the parts through `normalize`, a literal as
 *  text). Anything else (plurals `|`, linked `@:` messages, `%{`) is refused with the key's name, and
 *  the catalog test reads every message through this compiler, so such a message fails the tests. */
const PLAIN_TEXT = /^(?:[^{}@|%]|%(?!\{))*$/
const SUPPORTED = /^(?:[^{}@|%]|%(?!\{)|\{(?:[A-Za-z_]\w*|\d+|'[^'\\]*')\})*$/
const PART = /\{(?:([A-Za-z_]\w*|\d+)|'([^'\\]*)')\}/g

/** What vue-i18n's compiled messages call at run time; the two are left out of its published types. */
type FillContext = MessageContext<string> & {
  interpolate(value: unknown): unknown
  normalize(parts: unknown[]): string
}

function fillParts(message: string) {
  const parts: (string | { index: number } | { name: string })[] = []
  let at = 0
  for (const match of message.matchAll(PART)) {
    if (match.index > at) parts.push(message.slice(at, match.index))
    const [, key, literal] = match
    if (literal !== undefined) parts.push(literal)
    else parts.push(/^\d+$/.test(key!) ? { index: Number(key) } : { name: key! })
    at = match.index + match[0].length
  }
  if (at < message.length) parts.push(message.slice(at))
  return (ctx: MessageContext<string>) =>
    (ctx as FillContext).normalize(
      parts.map((part) =>
        typeof part === 'string'
          ? part
          : (ctx as FillContext).interpolate('index' in part ? ctx.list(part.index) : ctx.named(part.name)),
      ),
    )
}

export const messageCompiler: MessageCompiler = (message, context) => {
  if (typeof message === 'string' && PLAIN_TEXT.test(message))
    return (ctx: MessageContext<string>) => (ctx.type === 'text' ? message : (ctx as FillContext).normalize([message]))
  if (typeof message === 'string' && SUPPORTED.test(message)) return fillParts(message)
  throw new Error(
    `i18n: message '${context.key}' (${context.locale}) uses syntax the app does not compile ` +
      '(only text, {name}, {0} and {\'…\'} literals): ' + String(message),
  )
}

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
