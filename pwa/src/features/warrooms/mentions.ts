// @mentions in chat: which members a draft names, and a message's text cut into plain and
// mentioned parts for display (both rendered as text, never as HTML).
export interface Named {
  id: number
  display_name: string
}

/** The ids of the members named as `@name` in the text (longest names first, so 王敏 ≠ 王敏华). */
export function mentionedIds(text: string, members: Named[]): number[] {
  const ids: number[] = []
  let rest = text
  for (const m of [...members].sort((a, b) => b.display_name.length - a.display_name.length)) {
    const tag = `@${m.display_name}`
    if (m.display_name && rest.includes(tag)) {
      ids.push(m.id)
      rest = rest.split(tag).join(' ')
    }
  }
  return ids
}

export interface Part {
  text: string
  mention: boolean
}

/** The text cut at each `@name` of the mentioned members. */
export function mentionParts(text: string, names: string[]): Part[] {
  const tags = names.filter(Boolean).map((n) => `@${n}`).sort((a, b) => b.length - a.length)
  const parts: Part[] = []
  let plain = ''
  for (let i = 0; i < text.length; ) {
    const tag = text[i] === '@' ? tags.find((t) => text.startsWith(t, i)) : undefined
    if (tag) {
      if (plain) parts.push({ text: plain, mention: false })
      parts.push({ text: tag, mention: true })
      plain = ''
      i += tag.length
    } else {
      plain += text[i]
      i += 1
    }
  }
  if (plain) parts.push({ text: plain, mention: false })
  return parts
}
