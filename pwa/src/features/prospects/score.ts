// Colour by score (0..100, the percentile within the model version): the top 5 % stand out.
export const SCORE_BANDS = [
  { min: 95, color: '#b42318', key: 'top5' },
  { min: 80, color: '#e8590c', key: 'top20' },
  { min: 50, color: '#f5a623', key: 'top50' },
  { min: 0, color: '#8a94a6', key: 'rest' },
] as const

export function scoreColor(score: number | null | undefined): string {
  if (score === null || score === undefined) return '#8a94a6'
  return (SCORE_BANDS.find((b) => score >= b.min) ?? SCORE_BANDS[SCORE_BANDS.length - 1]).color
}

/** "lat,lng,km" for the API's near filter, rounded so the URL carries no precise position. */
export function nearParam(lat: number, lng: number, km: number): string {
  return `${lat.toFixed(3)},${lng.toFixed(3)},${km}`
}
