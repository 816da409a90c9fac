import { describe, expect, it } from 'vitest'
import { mentionParts, mentionedIds } from '@/features/warrooms/mentions'

const members = [
  { id: 1, display_name: '王敏' },
  { id: 2, display_name: '王敏华' },
  { id: 3, display_name: '李强' },
]

describe('mentions', () => {
  it('finds the members a draft names, the longest name first', () => {
    expect(mentionedIds('@王敏华 明天见', members)).toEqual([2])
    expect(mentionedIds('@王敏 @李强 一起去', members).sort()).toEqual([1, 3])
    expect(mentionedIds('王敏 没有 at', members)).toEqual([])
  })

  it('cuts a message into plain text and mentions, keeping markup as text', () => {
    expect(mentionParts('<b>@李强</b> 明早@王敏华见', ['李强', '王敏华'])).toEqual([
      { text: '<b>', mention: false },
      { text: '@李强', mention: true },
      { text: '</b> 明早', mention: false },
      { text: '@王敏华', mention: true },
      { text: '见', mention: false },
    ])
    expect(mentionParts('@张三 你好', [])).toEqual([{ text: '@张三 你好', mention: false }])
  })
})
