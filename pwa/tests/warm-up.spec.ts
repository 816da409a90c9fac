/// <reference types="node" />
// Reads the two files as text: Vitest hands a stylesheet import to a test as an empty string.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'

const read = (path: string) => readFileSync(new URL(path, import.meta.url), 'utf8')
const squash = (text: string) => text.replace(/\s+/g, ' ').trim()

describe('public/warm-up.js', () => {
  it('opens the fonts of the stack the app lays its text out in', () => {
    const stack = /html,\s*body\s*\{[^}]*font-family:\s*([^;]+);/.exec(read('../src/styles/base.css'))?.[1]
    expect(stack).toBeTruthy()
    const script = read('../public/warm-up.js')
    const warmed = /var stack =\s*"([^"]+)"/.exec(script)?.[1]
    expect(squash(warmed ?? '')).toBe(squash(stack!))
    expect(script).toContain("'600 16px ' + stack") // the headings' weight too
  })
})
