import { afterEach, describe, expect, it, vi } from 'vitest'
import { afterNextPaint } from '@/lib/afterPaint'

describe('afterNextPaint', () => {
  afterEach(() => {
    vi.unstubAllGlobals()
    vi.useRealTimers()
  })

  it('runs after the next frame, in a task of its own', () => {
    vi.useFakeTimers()
    const frames: FrameRequestCallback[] = []
    vi.stubGlobal('document', { visibilityState: 'visible' })
    vi.stubGlobal('requestAnimationFrame', (cb: FrameRequestCallback) => frames.push(cb))
    const task = vi.fn()
    afterNextPaint(task)
    vi.runAllTimers()
    expect(task).not.toHaveBeenCalled() // no frame drawn yet
    expect(frames).toHaveLength(1)
    frames[0](0)
    expect(task).not.toHaveBeenCalled() // not inside the frame's callback either
    vi.runAllTimers()
    expect(task).toHaveBeenCalledTimes(1)
  })

  it('does not wait for a frame on a hidden page, which draws none', () => {
    vi.useFakeTimers()
    const frame = vi.fn()
    vi.stubGlobal('document', { visibilityState: 'hidden' })
    vi.stubGlobal('requestAnimationFrame', frame)
    const task = vi.fn()
    afterNextPaint(task)
    vi.runAllTimers()
    expect(task).toHaveBeenCalledTimes(1)
    expect(frame).not.toHaveBeenCalled()
  })
})
