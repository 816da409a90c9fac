import { describe, expect, it } from 'vitest'
import { createI18n } from 'vue-i18n'
import zhCN from '@/locales/zh-CN'
import en from '@/locales/en'
import { deviceLabel } from '@/features/notebook/device'

function labeller(locale: 'zh-CN' | 'en') {
  const i18n = createI18n({ legacy: false, locale, messages: { 'zh-CN': zhCN, en } })
  const { t, te } = i18n.global
  return (platform: string, browser: string) => deviceLabel({ platform, browser }, (k) => t(k), (k) => te(k))
}

describe('deviceLabel', () => {
  it('words platform and browser in Chinese', () => {
    const label = labeller('zh-CN')
    expect(label('android', 'chrome')).toBe('Android · Chrome')
    expect(label('iphone', 'safari')).toBe('iPhone · Safari')
    expect(label('windows', 'edge')).toBe('Windows · Edge')
    expect(label('harmonyos', 'huawei')).toBe('鸿蒙 · 华为浏览器')
    expect(label('android', 'wechat')).toBe('Android · 微信')
  })

  it('words them in English', () => {
    const label = labeller('en')
    expect(label('android', 'samsung')).toBe('Android · Samsung Internet')
    expect(label('harmonyos', 'huawei')).toBe('HarmonyOS · Huawei Browser')
    expect(label('macos', 'safari')).toBe('Mac · Safari')
  })

  it('falls back to generic words for what it does not know, never the code', () => {
    const zh = labeller('zh-CN')
    expect(zh('android', 'other')).toBe('Android · 浏览器')
    expect(zh('other', 'firefox')).toBe('其他设备 · Firefox')
    expect(zh('other', 'other')).toBe('未知设备')
    expect(zh('fridge', 'kiosk')).toBe('未知设备') // codes from a newer server
    expect(labeller('en')('visionos', 'safari')).toBe('Other device · Safari')
  })
})
