// The benefit split as the server books it (server/opportunities/benefits.split_cents): the
// originator's share rounded half up to the cent, the closer gets the rest, so the two always add
// up to exactly the revenue. Shares are basis points; 10,000 = 100 %.
export const FULL_SHARE_BP = 10_000

export function splitCents(revenueCents: number, originatorBp: number): [number, number] {
  const originator = Math.floor((revenueCents * originatorBp + FULL_SHARE_BP / 2) / FULL_SHARE_BP)
  return [originator, revenueCents - originator]
}

/** Percent (up to two decimals) to basis points, clamped to 0–100 %. */
export function percentToBp(percent: number): number {
  if (!Number.isFinite(percent)) return 0
  return Math.min(FULL_SHARE_BP, Math.max(0, Math.round(percent * 100)))
}
