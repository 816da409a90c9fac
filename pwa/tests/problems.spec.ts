import { describe, expect, it } from 'vitest'
import { ApiError, NetworkError } from '@/api/http'
import { errorMessage, fieldErrors, problemMessage } from '@/api/errors'
import zhCN from '@/locales/zh-CN'
import en from '@/locales/en'
import { i18n } from '@/i18n'
import { setFormatLocale } from '@/lib/format'

describe('problem codes in the user language', () => {
  it('maps a code to the catalog and never shows the server detail', () => {
    const error = new ApiError({ status: 403, code: 'forbidden', detail: 'The mirror is for relationship managers.' })
    expect(error.message).toBe('您没有权限进行此操作')
    expect(errorMessage(error)).not.toContain('mirror')
    expect(problemMessage({ status: 409, code: 'already-claimed' })).toBe('已被他人抢先认领')
    // Redis restarting behind the API: a 503 the user can simply retry.
    expect(problemMessage({ status: 503, code: 'unavailable' })).toBe('服务正在恢复，请稍后再试')
  })

  it('falls back to the status for an unknown code', () => {
    expect(problemMessage({ status: 429, code: 'brand-new-code' })).toBe('操作太频繁，请稍后再试')
    expect(problemMessage({ status: 502 })).toBe('服务暂时不可用，请稍后再试')
    expect(errorMessage(new NetworkError())).toBe('网络不可用，请稍后再试')
  })

  it('puts field errors in words', () => {
    expect(fieldErrors({ status: 422, errors: [{ field: 'title', message: 'String should have at least 2 characters' }] })).toEqual({
      title: '请检查此项',
    })
  })

  it('has every code in both catalogs', () => {
    expect(Object.keys(en.problems.byCode).sort()).toEqual(Object.keys(zhCN.problems.byCode).sort())
    i18n.global.setLocaleMessage('en', en)
    i18n.global.locale.value = 'en'
    setFormatLocale('en')
    expect(problemMessage({ status: 409, code: 'already-claimed' })).toBe('Someone claimed it first')
    i18n.global.locale.value = 'zh-CN'
    setFormatLocale('zh-CN')
  })
})
