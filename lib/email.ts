// The same rule as the spec's `format: email` (ajv-formats' "full" mode), for emails that arrive
// in places the schema cannot check with its own error code, such as a path segment.
const EMAIL =
  // local-part@domain: dot-separated atoms of the RFC 5322 atext characters, then DNS labels.
  new RegExp(
    "^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*" +
      '@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\\.)+[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$',
    'i',
  )

export function isValidEmail(value: string): boolean {
  return value.length <= 254 && EMAIL.test(value)
}
