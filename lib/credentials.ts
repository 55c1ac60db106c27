/**
 * The scheme and credentials of an `Authorization` header (`<scheme> <credentials>`), or undefined
 * when it has another shape. The one parser of that header: sessions, sockets and metrics use it.
 */
export function parseAuthorization(header: string | undefined): { scheme: string; credentials: string } | undefined {
  const match = /^([A-Za-z]+) +(\S+) *$/.exec(header ?? '')
  return match ? { scheme: match[1].toLowerCase(), credentials: match[2] } : undefined
}
