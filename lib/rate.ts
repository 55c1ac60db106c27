const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 }

/** The one definition of a valid rate: the config schema checks it, parseRate reads it. */
export const RATE_PATTERN = '^(off|([0-9]+)/(s|sec|second|m|min|minute|h|hour|d|day))$'
const RATE = new RegExp(RATE_PATTERN)

/**
 * Parses a Django-style rate ("3/hour", "20/min") into a count and a window in ms; "off" is null.
 * Anything else throws: a typo must never quietly become "no limit" or a NaN window.
 */
export function parseRate(rate: string): { max: number; windowMs: number } | null {
  const match = RATE.exec(rate)
  if (!match) throw new Error(`Invalid rate "${rate}": expected "<count>/<second|minute|hour|day>" or "off".`)
  if (rate === 'off') return null
  return { max: Number(match[2]), windowMs: UNITS[match[3][0]] * 1000 }
}
