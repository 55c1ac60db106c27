import {
  applyMutation,
  serialize,
  type AuthVariant,
  type Encoding,
  type Mutation,
  type Segment,
  type Syntax,
} from './fuzz-arbitraries.js'

// What fuzz.test.ts reports it tried. A generated request is hostile by what was altered from the
// valid request its operation would take (the fixture body or a schema-valid one, the caller's own
// path values, the live token, or no token where none is needed); a request with nothing altered is
// a valid control, not an attack. Each alteration is one attack class, named by what it did.

export type BodyCase = {
  value: unknown
  /** How the body was made from a valid one (mutationLabel), or 'a hostile value' when no valid body was the start. */
  mutation: string
  syntax: Syntax
  encoding: Encoding
  contentType: string | string[] | undefined
  contentLength: string | undefined
}
export type Case = {
  auth: AuthVariant
  params: Record<string, Segment>
  query: string
  headers: Record<string, string>
  body: BodyCase | null
}

export const HOSTILE_VALUE = 'a hostile value'

function mutationLabel(m: Mutation): string {
  switch (m.op) {
    case 'tweak':
      return `tweak ${m.how}`
    case 'repeat':
      return `repeat ${m.times} times`
    case 'wrap':
      return `wrap in an ${m.as}`
    default:
      return m.op
  }
}

/** A valid body with a mutation applied, labelled; a mutation that changed nothing (upper-casing digits) is 'keep'. */
export function mutated(valid: unknown, m: Mutation): { value: unknown; mutation: string } {
  const value = applyMutation(valid, m)
  return { value, mutation: serialize(value) === serialize(valid) ? 'keep' : mutationLabel(m) }
}

const short = (s: string) => (s.length > 40 ? `${s.length} characters` : JSON.stringify(s))

/** The attack classes of a request to an operation; none for a valid control. */
export function attackClasses(c: Case, op: { authenticated: boolean; bodyType?: string }): string[] {
  const classes: string[] = []
  if (c.auth !== (op.authenticated ? 'bearer' : 'none')) classes.push(`auth: ${c.auth}`)
  for (const [name, s] of Object.entries(c.params)) {
    if (s.kind === 'alt') classes.push(`path: another ${name}`)
    if (s.kind === 'hostile') classes.push(`path: ${short(s.raw)}`)
  }
  if (c.query !== '') classes.push(`query: ${short(c.query)}`)
  for (const name of Object.keys(c.headers)) classes.push(`header: ${name}`)
  const b = c.body
  if (!b) return classes
  if (op.bodyType === undefined) classes.push('body: on an operation that takes none')
  if (b.mutation !== 'keep') classes.push(`body: ${b.mutation}`)
  if (b.syntax !== 'none') classes.push(`syntax: ${b.syntax}`)
  if (b.encoding !== 'utf8') classes.push(`encoding: ${b.encoding}`)
  // A body where none is taken is generated as JSON: its Content-Type is held to that.
  if (b.contentType !== (op.bodyType ?? 'application/json'))
    classes.push(`content-type: ${JSON.stringify(b.contentType)}`)
  if (b.contentLength !== undefined) classes.push('content-length: past the body limit')
  return classes
}
