const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 }

/** Parses a Django-style rate ("3/hour", "20/min") into a count and a window in ms; "off" is null. */
export function parseRate(rate: string): { max: number; windowMs: number } | null {
  if (rate === 'off') return null
  const [count, unit] = rate.split('/')
  return { max: Number(count), windowMs: UNITS[unit[0]] * 1000 }
}
