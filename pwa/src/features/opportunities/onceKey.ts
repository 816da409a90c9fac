// One Idempotency-Key per distinct request body: sending the same form again (a flaky network, a
// double tap) replays the server's first answer; a changed form (an override reason added after a
// refusal) is a new request with a new key.
export function onceKey(): (body: unknown) => string {
  let last = ''
  let key = ''
  return (body) => {
    const json = JSON.stringify(body)
    if (json !== last || !key) {
      last = json
      key = crypto.randomUUID()
    }
    return key
  }
}

/** The reason a lead gives for an audited action: at least two characters, as the API requires. */
export const enoughReason = (text: string) => text.trim().length >= 2
