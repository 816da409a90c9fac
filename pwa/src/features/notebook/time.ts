// Dates shown in the device's time zone; sent to the server as ISO 8601 with the offset.

export function formatWhen(iso: string | null): string {
  if (!iso) return ''
  const d = new Date(iso)
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`
}

/** The value of an <input type="datetime-local"> for an ISO time (local wall clock). */
export function toLocalInput(iso: string | null): string {
  return iso ? formatWhen(iso).replace(' ', 'T') : ''
}

/** An <input type="datetime-local"> value as an ISO instant (the device's zone applies). */
export function fromLocalInput(value: string): string | null {
  if (!value) return null
  const d = new Date(value)
  return Number.isNaN(d.getTime()) ? null : d.toISOString()
}
