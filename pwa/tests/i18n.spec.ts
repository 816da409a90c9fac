import { describe, expect, it } from 'vitest'
import { h } from 'vue'
import { createI18n } from 'vue-i18n'
import { i18n, messageCompiler } from '@/i18n'
import zhCN from '@/locales/zh-CN'
import en from '@/locales/en'
import { prospectsZh } from '@/features/prospects/locale'
import { prospectsEn } from '@/features/prospects/locale.en'
import { campaignZh } from '@/features/warrooms/campaignLocale'
import { campaignEn } from '@/features/warrooms/campaignLocale.en'

const messages = {
  plain: '客户经理工作台',
  named: '早上好，{name}',
  list: '{0} / {1}',
  literal: "{'{'}括号{'}'}",
  at: "说点什么，{'@'}{who}",
}

describe('the message compiler', () => {
  const local = createI18n({ legacy: false, locale: 'zh-CN', messageCompiler, messages: { 'zh-CN': messages } })
  const { t } = local.global

  it('gives plain text as it is and fills placeholders and literals', () => {
    expect(t('plain')).toBe('客户经理工作台')
    expect(t('named', { name: '张伟' })).toBe('早上好，张伟')
    expect(t('list', ['a', 'b'])).toBe('a / b')
    expect(t('literal')).toBe('{括号}')
    expect(t('at', { who: '同事' })).toBe('说点什么，@同事')
  })

  it('refuses the syntax it does not compile, naming the message (the build has no parser for it)', () => {
    const context = { key: 'opps.count', locale: 'zh-CN' } as never
    for (const message of ['没有客户 | 1 位客户 | {n} 位客户', '欢迎使用 @:plain 演示', '%{n} 位', '{a.b}', "{'\\''}"]) {
      expect(() => messageCompiler(message, context), message).toThrow(/'opps\.count' \(zh-CN\)/)
    }
  })

  it('gives plain text to component interpolation (vnode messages) too', () => {
    const plain = messageCompiler('纯文本', { key: 'k', locale: 'zh-CN' } as never)
    const normalized: unknown[] = []
    const ctx = { type: 'vnode', normalize: (parts: unknown[]) => (normalized.push(...parts), parts) }
    expect(plain(ctx as never)).toEqual(['纯文本'])
    expect(normalized).toEqual(['纯文本'])
    expect(h('p', plain({ type: 'text' } as never) as string).children).toBe('纯文本')
  })

  it('fills {name} and {0} placeholders without the parser, through interpolate and normalize', () => {
    const fill = messageCompiler('{who}，{0} 件待办', { key: 'k', locale: 'zh-CN' } as never)
    const calls: unknown[] = []
    const ctx = {
      type: 'vnode',
      named: (key: string) => `named:${key}`,
      list: (index: number) => `list:${index}`,
      interpolate: (value: unknown) => (calls.push(value), `<${value}>`),
      normalize: (parts: unknown[]) => parts,
    }
    expect(fill(ctx as never)).toEqual(['<named:who>', '，', '<list:0>', ' 件待办'])
    expect(calls).toEqual(['named:who', 'list:0'])
    expect(t('list', ['甲', '乙'])).toBe('甲 / 乙')
    expect(t('named', { name: 'N' })).toBe('早上好，N')
  })

  it('reads every catalog string as the stock compiler does', () => {
    const catalogs = {
      'zh-CN': { ...zhCN, prospects: prospectsZh, campaign: campaignZh },
      en: { ...en, prospects: prospectsEn, campaign: campaignEn },
    }
    const ours = createI18n({ legacy: false, locale: 'zh-CN', messageCompiler, messages: catalogs, missingWarn: false, fallbackWarn: false })
    const theirs = createI18n({ legacy: false, locale: 'zh-CN', messages: catalogs, missingWarn: false, fallbackWarn: false })
    const keys = (tree: object, prefix = ''): string[] =>
      Object.entries(tree).flatMap(([k, v]) => (typeof v === 'string' ? [prefix + k] : typeof v === 'object' ? keys(v, `${prefix}${k}.`) : []))
    const args = { name: 'N', n: 2, count: 2, days: 3, persona: 'P', field: 'F', seconds: 5, status: 500 }
    let checked = 0
    for (const locale of ['zh-CN', 'en'] as const) {
      ours.global.locale.value = locale
      theirs.global.locale.value = locale
      for (const key of keys(catalogs[locale])) {
        expect(ours.global.t(key, args), key).toBe(theirs.global.t(key, args))
        checked += 1
      }
    }
    expect(checked).toBeGreaterThan(1000)
  })

  it('is the app catalog compiler', () => {
    expect(i18n.global.t('app.retry')).toBe('重试')
  })
})
