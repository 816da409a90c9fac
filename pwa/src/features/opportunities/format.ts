export function wan(cents: number | null | undefined): string {
  if (cents == null) return ''
  return `${(cents / 1_000_000).toLocaleString('zh-CN', { maximumFractionDigits: 2 })}万`
}

export function yuan(cents: number): string {
  return (cents / 100).toLocaleString('zh-CN', { minimumFractionDigits: 2, maximumFractionDigits: 2 })
}

export function shortTime(iso: string | null): string {
  if (!iso) return ''
  const d = new Date(iso)
  return `${d.getMonth() + 1}-${d.getDate()} ${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`
}
