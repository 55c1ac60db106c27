import t from 'tap'
import fc from 'fast-check'
import * as H from './fuzz-arbitraries.js'
import { attackClasses, mutated, type BodyCase, type Case } from './fuzz-classes.js'

// The fuzzer's security line counts hostile requests and valid controls apart: a request counts as
// a control exactly when nothing in it was altered from the valid one, and every alteration is an
// attack class of its own.

const JSON_TYPE = 'application/json'
const authenticated = { authenticated: true, bodyType: JSON_TYPE }
const template = { code: '123456' }
const body = (over: Partial<BodyCase> = {}): BodyCase => ({
  value: template,
  mutation: 'keep',
  syntax: 'none',
  encoding: 'utf8',
  contentType: JSON_TYPE,
  contentLength: undefined,
  ...over,
})
const valid = (over: Partial<Case> = {}): Case => ({
  auth: 'bearer',
  params: { registrationId: { kind: 'ok' } },
  query: '',
  headers: {},
  body: body(),
  ...over,
})

t.test('the valid request is a control; each alteration is a class', async (tt) => {
  tt.same(attackClasses(valid(), authenticated), [], 'nothing altered: a valid control')
  tt.same(
    attackClasses(valid({ auth: 'none', body: null }), { authenticated: false }),
    [],
    'no token where none is needed',
  )
  const altered: [string, Case, string[]][] = [
    ['a token on an open operation', valid({ body: null }), ['auth: bearer']],
    ['another scheme', valid({ auth: 'token' }), ['auth: token']],
    ["another device's path", valid({ params: { registrationId: { kind: 'alt' } } }), ['path: another registrationId']],
    ['a hostile segment', valid({ params: { registrationId: { kind: 'hostile', raw: '%00' } } }), ['path: "%00"']],
    ['a query', valid({ query: '?a=1&a=2' }), ['query: "?a=1&a=2"']],
    ['a header', valid({ headers: { host: 'evil.example.com' } }), ['header: host']],
    ['a mutated body', valid({ body: body({ mutation: 'tweak upper' }) }), ['body: tweak upper']],
    ['broken syntax', valid({ body: body({ syntax: 'bom' }) }), ['syntax: bom']],
    ['another encoding', valid({ body: body({ encoding: 'latin1' }) }), ['encoding: latin1']],
    [
      'a charset',
      valid({ body: body({ contentType: `${JSON_TYPE}; charset=utf-8` }) }),
      ['content-type: "application/json; charset=utf-8"'],
    ],
    [
      'a Content-Length lie',
      valid({ body: body({ contentLength: '99999999999' }) }),
      ['content-length: past the body limit'],
    ],
  ]
  for (const [name, c, classes] of altered) {
    const op = name === 'a token on an open operation' ? { authenticated: false } : authenticated
    tt.same(attackClasses(c, op), classes, name)
  }
  tt.same(
    mutated(template, { op: 'tweak', path: ['code'], how: 'upper' }).mutation,
    'keep',
    'upper-cased digits: unaltered',
  )
  tt.same(mutated(template, { op: 'tweak', path: ['code'], how: 'chop' }).mutation, 'tweak chop')
  tt.same(
    attackClasses(valid({ body: body({ mutation: 'keep' }) }), { authenticated: true }),
    ['body: on an operation that takes none'],
    'a body where the operation takes none',
  )
})

t.test('over generated requests, a control is exactly an unaltered one', async (tt) => {
  const start = { email: 'a@example.com', codes: ['123456', '654321'], n: 7 }
  const made = H.mutation(start).map((m) => mutated(start, m))
  const cases = fc.record({
    auth: H.auth(true),
    params: fc.record({ registrationId: H.segment }),
    query: H.query,
    headers: H.extraHeaders,
    body: fc
      .record({
        made,
        syntax: H.syntax,
        encoding: H.encoding,
        contentType: H.contentType(JSON_TYPE),
        contentLength: H.contentLengthLie,
      })
      .map(({ made: { value, mutation }, ...rest }) => ({ value, mutation, ...rest })),
  })
  let controls = 0
  let wrong = 0
  for (const c of fc.sample(cases, { seed: 1, numRuns: 2000 })) {
    const unaltered =
      c.auth === 'bearer' &&
      c.params.registrationId.kind === 'ok' &&
      c.query === '' &&
      Object.keys(c.headers).length === 0 &&
      H.serialize(c.body.value) === H.serialize(start) &&
      c.body.syntax === 'none' &&
      c.body.encoding === 'utf8' &&
      c.body.contentType === JSON_TYPE &&
      c.body.contentLength === undefined
    const isControl = attackClasses(c, authenticated).length === 0
    if (isControl) controls++
    if (isControl !== unaltered) wrong++
  }
  tt.equal(wrong, 0, 'no altered request counted as a control, no unaltered one as an attack')
  tt.ok(controls > 0 && controls < 200, `some controls among 2000 (${controls}), counted apart from the attacks`)
})
