import fc from 'fast-check'

// The generators behind fuzz.test.ts. Everything here is plain data (no functions) so that
// fast-check can shrink it and print a failing case that can be replayed by hand.

/** A fragment of JSON text that JSON.stringify cannot produce (1e400, NaN, 10k-deep nesting), spliced in verbatim. */
export class Raw {
  constructor(readonly text: string) {}
  toJSON() {
    return `${MARK}${rawTexts.push(this.text) - 1}${MARK}`
  }
}
const MARK = '\u0007raw\u0007'
let rawTexts: string[] = []

/** JSON text of a value that may contain Raw fragments. */
export function serialize(value: unknown): string {
  rawTexts = []
  const text = JSON.stringify(value) ?? 'undefined'
  const texts = rawTexts
  return text.replace(/"\\u0007raw\\u0007(\d+)\\u0007raw\\u0007"/g, (_, i) => texts[Number(i)])
}

const deepArray = (n: number) => '['.repeat(n) + ']'.repeat(n)
const deepObject = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n)
const LONG = 'A'.repeat(100_000)
const OVERSIZED = 'A'.repeat(1_100_000) // past the 1 MiB body limit

const hostileStrings = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff',
  'x\ud83dx',
  '\u202eevil\u202c',
  '\u200f\u0627\u0644\u200e',
  '\ufeff',
  '\uffff',
  '𝕏😀',
  'e\u0301',
  'null',
  'true',
  '0',
  '-0',
  '-1',
  '1e308',
  'NaN',
  'Infinity',
  '9007199254740993',
  '2^53',
  '0x10',
  '000123',
  '１２３４５６',
  '__proto__',
  'constructor',
  "' OR '1'='1",
  '"; DROP TABLE users; --',
  '<script>alert(1)</script>',
  '../../etc/passwd',
  '%00',
  '%',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template-injection probe, sent literally
  '${7*7}',
  '\r\nX-Injected: 1',
  '\\',
  '\t\n\v\f\r',
  'a@b',
  '@',
  'alice@example.com\u0000',
  ' ALICE@EXAMPLE.COM ',
  'a'.repeat(250) + '@example.com',
  LONG,
  OVERSIZED,
  'é'.repeat(1025),
  '😀'.repeat(1025),
  '\u0000'.repeat(2000),
]
// Every UTF-16 code unit, lone surrogates and NUL included.
const anyString = fc.string({
  unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
  maxLength: 40,
})

const hostileNumbers = [
  0,
  -0,
  -1,
  0.5,
  1e-308,
  2 ** 31 - 1,
  2 ** 31,
  2 ** 32,
  2 ** 53 - 1,
  2 ** 53,
  2 ** 53 + 2,
  -(2 ** 53),
  1e308,
  -1e308,
  999999,
  1000000,
]

const rawTokens = [
  '1e400',
  '-1e400',
  'NaN',
  'Infinity',
  '-Infinity',
  '01',
  '1.',
  '.5',
  '+1',
  '0x10',
  '1_000',
  '-',
  '1e',
  'undefined',
  "'x'",
  '"\\ud800"',
  '"\\udc00\\ud800"',
  '"\\u0000"',
  '"a\\u0000b"',
  '"\\uZZZZ"',
  '"\\x41"',
  '"\\"',
  '"unterminated',
  '"\t"',
  '[1,]',
  '{,}',
  '{"a":1,}',
  '1 2',
  '/*c*/1',
  '123456789012345678901234567890',
  '-0.0e-0',
  '{"__proto__":{"admin":true}}',
  '{"constructor":{"prototype":{"admin":true}}}',
  deepArray(1000),
  deepArray(10_000),
  deepArray(100_000),
  deepObject(10_000),
  '[' + '1,'.repeat(100_000) + '1]',
]

/** A value to put where the schema expects something else: wrong types, edge numbers, odd strings, raw JSON. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: fc.constantFrom(...hostileStrings), weight: 4 },
  { arbitrary: anyString, weight: 2 },
  { arbitrary: fc.constantFrom(...hostileNumbers), weight: 3 },
  { arbitrary: fc.constantFrom(...rawTokens).map((t) => new Raw(t)), weight: 3 },
  { arbitrary: fc.constantFrom<unknown>(null, true, false, {}, [], [null], { '': '' }), weight: 2 },
  { arbitrary: fc.jsonValue({ maxDepth: 2 }), weight: 1 },
  { arbitrary: fc.constantFrom(1001, 10_000).map((n) => new Array(n).fill(1)), weight: 1 },
)
const hostileKeys = [
  '__proto__',
  'constructor',
  'prototype',
  '',
  '\u0000',
  'toString',
  'hasOwnProperty',
  'a'.repeat(1000),
  'extra',
  '\ud800',
  '$where',
]

// ---- mutations of a valid body ------------------------------------------------------------------

/** A step into the value; '$json' steps into a string that holds JSON (the ciphertext in a message). */
export type Path = (string | number)[]
type Tweak =
  | 'upper'
  | 'nul'
  | 'space'
  | 'double'
  | 'chop'
  | 'rtl'
  | 'surrogate'
  | 'pad1025'
  | 'plus1'
  | 'minus1'
  | 'negate'
  | 'half'
  | 'big'
export type Mutation =
  | { op: 'keep' }
  | { op: 'replace'; path: Path; value: unknown }
  | { op: 'delete'; path: Path }
  | { op: 'add'; path: Path; key: string; value: unknown }
  | { op: 'tweak'; path: Path; how: Tweak }
  | { op: 'repeat'; path: Path; times: number }
  | { op: 'wrap'; path: Path; as: 'array' | 'object' }

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Raw)
function jsonInside(s: string): unknown {
  try {
    const v = JSON.parse(s)
    return isObject(v) ? v : undefined
  } catch {
    return undefined
  }
}

function nodesOf(value: unknown, path: Path = []): { path: Path; value: unknown }[] {
  const here = [{ path, value }]
  if (Array.isArray(value)) return here.concat(value.slice(0, 3).flatMap((v, i) => nodesOf(v, [...path, i])))
  if (isObject(value)) return here.concat(Object.entries(value).flatMap(([k, v]) => nodesOf(v, [...path, k])))
  if (typeof value === 'string' && jsonInside(value))
    return here.concat(nodesOf(jsonInside(value), [...path, '$json']).slice(1))
  return here
}

export function mutation(base: unknown): fc.Arbitrary<Mutation> {
  const nodes = nodesOf(base)
  const pick = (f: (v: unknown) => boolean) => nodes.filter((n) => f(n.value)).map((n) => n.path)
  const all = nodes.map((n) => n.path)
  const inner = all.filter((p) => p.length > 0)
  const objects = pick(isObject)
  const scalars = pick((v) => typeof v === 'string' || typeof v === 'number')
  const arrays = pick(Array.isArray)
  const choices: fc.WeightedArbitrary<Mutation>[] = [
    { weight: 1, arbitrary: fc.constant({ op: 'keep' as const }) },
    {
      weight: 6,
      arbitrary: fc.record({ op: fc.constant('replace' as const), path: fc.constantFrom(...all), value: hostileValue }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        op: fc.constant('wrap' as const),
        path: fc.constantFrom(...all),
        as: fc.constantFrom('array' as const, 'object' as const),
      }),
    },
  ]
  if (inner.length)
    choices.push({
      weight: 2,
      arbitrary: fc.record({ op: fc.constant('delete' as const), path: fc.constantFrom(...inner) }),
    })
  if (objects.length) {
    choices.push({
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant('add' as const),
        path: fc.constantFrom(...objects),
        key: fc.constantFrom(...hostileKeys),
        value: hostileValue,
      }),
    })
  }
  if (scalars.length) {
    const tweaks: Tweak[] = [
      'upper',
      'nul',
      'space',
      'double',
      'chop',
      'rtl',
      'surrogate',
      'pad1025',
      'plus1',
      'minus1',
      'negate',
      'half',
      'big',
    ]
    choices.push({
      weight: 3,
      arbitrary: fc.record({
        op: fc.constant('tweak' as const),
        path: fc.constantFrom(...scalars),
        how: fc.constantFrom(...tweaks),
      }),
    })
  }
  if (arrays.length) {
    choices.push({
      weight: 1,
      arbitrary: fc.record({
        op: fc.constant('repeat' as const),
        path: fc.constantFrom(...arrays),
        times: fc.constantFrom(0, 2, 101, 1001),
      }),
    })
  }
  return fc.oneof(...choices)
}

function tweak(v: unknown, how: Tweak): unknown {
  if (typeof v === 'number') {
    return { plus1: v + 1, minus1: v - 1, negate: -v, half: v + 0.5, big: v + 2 ** 32 }[how as 'plus1'] ?? String(v)
  }
  const s = String(v)
  const table: Partial<Record<Tweak, string>> = {
    upper: s.toUpperCase(),
    nul: `${s}\u0000`,
    space: ` ${s} `,
    double: s + s,
    chop: s.slice(0, -1),
    rtl: `\u202e${s}`,
    surrogate: `${s}\ud800`,
    pad1025: s.padEnd(1025, 'x'),
  }
  return table[how] ?? Number(s)
}

/** The value with the mutation applied; the base is left as it was. */
export function applyMutation(value: unknown, m: Mutation, path: Path = 'path' in m ? m.path : []): unknown {
  if (m.op === 'keep') return value
  if (path.length === 0) {
    switch (m.op) {
      case 'replace':
        return m.value
      case 'tweak':
        return tweak(value, m.how)
      case 'wrap':
        return m.as === 'array' ? [value] : { value }
      case 'repeat':
        return m.times === 0 ? [] : new Array(m.times).fill((value as unknown[])[0])
      case 'add': {
        const copy = { ...(value as object) }
        Object.defineProperty(copy, m.key, { value: m.value, enumerable: true, configurable: true, writable: true })
        return copy
      }
      default:
        return value
    }
  }
  const [step, ...rest] = path
  if (step === '$json') return serialize(applyMutation(JSON.parse(value as string), m, rest))
  if (m.op === 'delete' && rest.length === 0) {
    if (Array.isArray(value)) return value.filter((_, i) => i !== step)
    const { [step]: _gone, ...others } = value as Record<string, unknown>
    return others
  }
  const copy = (Array.isArray(value) ? [...value] : { ...(value as object) }) as Record<string | number, unknown>
  copy[step] = applyMutation(copy[step], m, rest)
  return copy
}

// ---- the text, its bytes and its headers ----------------------------------------------------------

export type Syntax =
  | 'none'
  | 'truncate'
  | 'trailingComma'
  | 'bom'
  | 'dupKeyFirst'
  | 'dupKeyLast'
  | 'garbage'
  | 'nul'
  | 'comment'
  | 'singleQuotes'
  | 'concat'
  | 'nbsp'
  | 'empty'
  | 'whitespace'
export const syntax = fc.oneof(
  { weight: 12, arbitrary: fc.constant<Syntax>('none') },
  {
    weight: 3,
    arbitrary: fc.constantFrom<Syntax>(
      'truncate',
      'trailingComma',
      'bom',
      'dupKeyFirst',
      'dupKeyLast',
      'garbage',
      'nul',
      'comment',
      'singleQuotes',
      'concat',
      'nbsp',
      'empty',
      'whitespace',
    ),
  },
)

export function applySyntax(text: string, s: Syntax): string {
  const key = /^\{("(?:[^"\\]|\\.)*"):/.exec(text)?.[1]
  switch (s) {
    case 'truncate':
      return text.slice(0, Math.max(1, Math.floor(text.length / 2)))
    case 'trailingComma':
      return text.replace(/([}\]])$/, ',$1')
    case 'bom':
      return `\ufeff${text}`
    case 'dupKeyFirst':
      return key ? `{${key}:{"x":1},${text.slice(1)}` : text // the original wins
    case 'dupKeyLast':
      return key ? `${text.slice(0, -1)},${key}:{"x":1}}` : text // the duplicate wins
    case 'garbage':
      return `${text}}x`
    case 'nul':
      return `${text}\u0000`
    case 'comment':
      return `/* c */${text}`
    case 'singleQuotes':
      return text.replace(/"/g, "'")
    case 'concat':
      return text + text
    case 'nbsp':
      return `\u00a0${text}`
    case 'empty':
      return ''
    case 'whitespace':
      return ` \t\r\n${text}\n `
    default:
      return text
  }
}

export type Encoding = 'utf8' | 'utf16le' | 'latin1' | 'badUtf8'
export const encoding = fc.oneof(
  { weight: 12, arbitrary: fc.constant<Encoding>('utf8') },
  { weight: 1, arbitrary: fc.constantFrom<Encoding>('utf16le', 'latin1', 'badUtf8') },
)
export function encode(text: string, e: Encoding): string | Buffer {
  if (e === 'utf8') return text
  if (e === 'badUtf8')
    return Buffer.concat([Buffer.from(text), Buffer.from([0xff, 0xfe, 0xc0, 0xaf, 0xed, 0xa0, 0x80])])
  return Buffer.from(text, e)
}

/** Content-Type values around the operation's own type; undefined sends none; arrays send the header twice. */
export function contentType(own: string): fc.Arbitrary<string | string[] | undefined> {
  const odd = [
    `${own}; charset=utf-8`,
    own.toUpperCase(),
    ` ${own} `,
    `${own};charset=UTF-16`,
    `${own}; charset=latin1`,
    `${own}; charset="utf-8"`,
    `${own};;;`,
    `${own}; boundary=x`,
    'text/plain',
    'text/html',
    'text/plain; charset=utf-8',
    'application/xml',
    'multipart/form-data; boundary=----x',
    'application/x-www-form-urlencoded',
    'application/json',
    'application/vnd.api+json',
    `${own}x`,
    `${own}/x`,
    'application/*',
    '*/*',
    '',
  ]
  return fc.oneof(
    { weight: 14, arbitrary: fc.constant(own) },
    { weight: 4, arbitrary: fc.constantFrom(...odd) },
    {
      weight: 1,
      arbitrary: fc.constantFrom<string[] | undefined>(undefined, [own, 'text/plain'], ['text/plain', own]),
    },
  )
}
// Over HTTP a Content-Length that is wrong in number cannot be told from the bytes (they are read as
// the next request, or waited for); the one the server must refuse up front is real: past the limit.
export const contentLengthLie = fc.oneof(
  { weight: 12, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.constant('99999999999') },
)

// ---- authorization and path parameters ----------------------------------------------------------

/**
 * Authorization headers, by name; fuzz.test.ts renders them with the live tokens. true: the server
 * must accept it. No NUL or CR/LF: Node's HTTP parser refuses those before the app sees them.
 */
export const authVariants = {
  none: false,
  bearer: true,
  token: true,
  lowercase: true,
  upperBearer: true,
  manySpaces: true,
  trailingSpace: true,
  dupValidFirst: true,
  otherUser: true,
  /** The caller's account, a token bound to no device. */
  unbound: true,
  /** The caller's account, a token bound to its other device. */
  otherDevice: true,
  empty: false,
  schemeOnly: false,
  schemeSpace: false,
  basic: false,
  truncated: false,
  appended: false,
  tampered: false,
  algNone: false,
  ephemeral: false,
  noScheme: false,
  twoTokens: false,
  tab: false,
  nbsp: false,
  huge: false,
  dupBogusFirst: false,
  negotiate: false,
  nullToken: false,
  unicode: false,
} as const
export type AuthVariant = keyof typeof authVariants
const names = Object.keys(authVariants) as AuthVariant[]
export const auth = (authenticated: boolean) =>
  fc.oneof(
    { weight: authenticated ? 6 : 1, arbitrary: fc.constantFrom<AuthVariant>('bearer') },
    { weight: authenticated ? 1 : 6, arbitrary: fc.constantFrom<AuthVariant>('none') },
    { weight: 3, arbitrary: fc.constantFrom(...names) },
  )

/** Raw path segments: traversal, broken and double percent-encoding, NUL, overlong UTF-8, edge numbers, length. */
const hostileSegments = [
  '..',
  '.',
  '..%2f',
  '..%2F..%2F..%2Fetc%2Fpasswd',
  '%2e%2e',
  '%2e%2e%2f',
  '..%5c',
  '%5c',
  '..;',
  '%00',
  'a%00',
  '%2500',
  '%252e%252e%252f',
  '%25',
  '%',
  '%%',
  '%zz',
  '%2',
  '%c0%af',
  '%ed%a0%80',
  '%ff%fe',
  '%F0%9F%98%80',
  '%E2%80%AE',
  '%20',
  '%09',
  '%0d%0a',
  '+',
  ';',
  '%3B',
  '%3F',
  '%23',
  '%2F',
  '%2F%2F',
  'x'.repeat(5000),
  'x'.repeat(20_000),
  '-1',
  '-0',
  '1e3',
  '1.5',
  '0x10',
  '2147483648',
  '9007199254740993',
  '1e308',
  'NaN',
  'Infinity',
  'null',
  'true',
  '%5B%5D',
  '%7B%7D',
  '%EF%BC%91',
  '%D9%A1',
  '__proto__',
  'constructor',
  'APP',
  'app%00',
  'app%20',
  'email%2f..',
  '%61pp',
  'a@b',
  'nobody@example.com',
  '%C3%A9%40example.com',
  'me%40example.com%00',
  '..%2f..%2fdevice',
  // Around a deviceId and its '*' form (all devices).
  '*',
  '%2A',
  '**',
  '*1',
  '0',
  '01',
  '1000000000',
]
/**
 * `ok`: the caller's own value; `alt`: a well-formed other one (another registration ID, the other
 * method, a user without a device, another device, another account's provisioning address).
 */
export type Segment = { kind: 'ok' } | { kind: 'alt' } | { kind: 'hostile'; raw: string }
export const segment = fc.oneof(
  { weight: 6, arbitrary: fc.constant<Segment>({ kind: 'ok' }) },
  { weight: 1, arbitrary: fc.constant<Segment>({ kind: 'alt' }) },
  { weight: 4, arbitrary: fc.constantFrom(...hostileSegments).map((raw): Segment => ({ kind: 'hostile', raw })) },
)

export const extraHeaders = fc.oneof(
  { weight: 10, arbitrary: fc.constant<Record<string, string>>({}) },
  {
    weight: 1,
    arbitrary: fc.constantFrom<Record<string, string>>(
      { 'content-encoding': 'gzip' },
      { 'transfer-encoding': 'chunked' },
      { host: 'evil.example.com' },
      { 'x-forwarded-for': '1.2.3.4, '.repeat(2000) },
      { accept: 'text/html' },
      { 'x-http-method-override': 'DELETE' },
      { expect: '100-continue' },
      { 'accept-charset': 'utf-16' },
    ),
  },
)
export const query = fc.oneof(
  { weight: 10, arbitrary: fc.constant('') },
  { weight: 1, arbitrary: fc.constantFrom('?a=%zz', '?__proto__[x]=1', '?a=1&a=2', `?${'q'.repeat(5000)}=1`, '?%00') },
)

// ---- values from the schema -----------------------------------------------------------------------

type Schema = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

/** Values that satisfy a request schema (the fixtures' templates are richer: real keys, real signatures). */
export function fromSchema(schema: Schema, root: Schema): fc.Arbitrary<unknown> {
  const deref = (node: Schema): Schema =>
    node.$ref
      ? deref(
          node.$ref
            .slice(2)
            .split('/')
            .reduce((o: Schema, k: string) => o[k], root),
        )
      : node
  const s = deref(schema)
  if (s.allOf) return fromSchema({ ...Object.assign({}, ...s.allOf.map(deref)), ...s, allOf: undefined }, root)
  if (s.oneOf) return fc.oneof(...s.oneOf.map((x: Schema) => fromSchema(x, root)))
  if (s.enum) return fc.constantFrom(...s.enum)
  switch (s.type) {
    case 'string':
      if (s.format === 'email') return fc.emailAddress()
      if (s.pattern) return fc.stringMatching(new RegExp(s.pattern))
      return fc.string({ minLength: s.minLength ?? 0, maxLength: Math.min(s.maxLength ?? 20, 20) })
    case 'integer':
      return fc.integer({ min: s.minimum ?? -(2 ** 31), max: Math.min(s.maximum ?? 2 ** 31 - 1, 2 ** 31 - 1) })
    case 'boolean':
      return fc.boolean()
    case 'array':
      return fc.array(fromSchema(s.items, root), {
        minLength: s.minItems ?? 0,
        maxLength: Math.min(s.maxItems ?? 3, 3),
      })
    case 'object': {
      const props = Object.fromEntries(
        Object.entries<Schema>(s.properties ?? {}).map(([k, v]) => [k, fromSchema(v, root)]),
      )
      return fc.record(props, { requiredKeys: s.required ?? [] })
    }
  }
  return fc.jsonValue({ maxDepth: 1 })
}
