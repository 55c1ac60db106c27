/** The seed's clients send codes as integers; "012345" arrives as 12345. */
export function normalizeCode(code: string | number): string {
  return typeof code === 'number' ? String(code).padStart(6, '0') : code.trim().toLowerCase()
}
