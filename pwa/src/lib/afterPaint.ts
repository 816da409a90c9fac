/** Runs `task` in a task of its own after the browser has drawn the next frame: for start-up work
 *  nobody sees (the inbox's first load and socket, the offline outbox), which would otherwise run in
 *  the first render's task and hold up the first paint and a first tap. A hidden page draws no
 *  frames, so there it runs in the next task instead of waiting to be shown. */
export function afterNextPaint(task: () => void): void {
  if (typeof requestAnimationFrame !== 'function' || document.visibilityState === 'hidden') {
    setTimeout(task, 0)
    return
  }
  requestAnimationFrame(() => setTimeout(task, 0))
}
