import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { auditLogs } from '../../scripts/log-audit.js'

// The audit npm test runs over the whole suite's logs must find a secret wherever a log line could
// carry it, and must not cry wolf at a code that happens to sit inside a timestamp.

/** A capture directory as test/log-capture.ts writes it: secrets by source, the declared sources, one log. */
function setup(tt: Test, secrets: (string | [string, string])[], log: string, declared: string[] = []) {
  const dir = mkdtempSync(join(tmpdir(), 'log-audit-'))
  tt.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const lines = secrets.map((s) => JSON.stringify(typeof s === 'string' ? ['helper', s] : s))
  writeFileSync(join(dir, '1.secrets'), lines.join('\n') + '\n')
  writeFileSync(join(dir, '1.sources'), declared.map((s) => `${s}\n`).join(''))
  writeFileSync(join(dir, '1.log'), log)
  return auditLogs(dir)
}

const key = 'BY35o1qNN3OmeB451LTFP4XZVi3jqKz+5i4TRydByW5f'
const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ'

t.test('finds secrets in messages, JSON-escaped strings, URLs and headers', async (tt) => {
  const cases: [string, string][] = [
    ['a message', `{"msg":"stored ${key}"}`],
    ['an escaped JSON string', `{"err":"{\\"publicKey\\":\\"${key}\\"}"}`],
    ['a URL path', `{"url":"/auth/password/reset/confirm/MQ/${'c3z-0a1b2c3d4e5f60718293a4b5c6d7e8f9'}/"}`],
    ['a header', `{"headers":{"authorization":"Bearer ${jwt}"}}`],
    ['a query string', `{"url":"/messages/1/websocket/?token=${jwt}&x=1"}`],
    ['a key in a query string', `{"url":"/x/?k=${key}"}`],
    ['a 6-digit code', `{"msg":"code 123456 sent"}`],
  ]
  const secrets = [key, 'c3z-0a1b2c3d4e5f60718293a4b5c6d7e8f9', jwt, '123456']
  for (const [name, line] of cases) {
    const audit = setup(tt, secrets, line + '\n')
    tt.equal(audit.leaks.length, 1, `found in ${name}`)
  }
})

t.test('a clean log, and codes inside longer numbers, find nothing', async (tt) => {
  const audit = setup(
    tt,
    [key, '123456', 'correct-horse-battery'],
    '{"time":1795612345678,"reqId":"req-123456x","msg":"request completed"}\n',
  )
  tt.same(audit.leaks, [])
  tt.equal(audit.secrets, 3)
  tt.equal(audit.lines, 1)
})

const message = JSON.stringify({ type: 3, body: key, registrationId: 1002 })

t.test('a secret with a character tokens never hold is searched for by its parts, then as text', async (tt) => {
  const secrets = [message, 'correct horse battery']
  const cases: [string, string, number][] = [
    ['a JSON message, escaped in a log line', `{"body":${JSON.stringify(message)}}`, 1],
    ['a password with spaces', '{"msg":"login correct horse battery"}', 1],
    ['its parts, but never together', '{"a":"correct","b":"horse","c":"battery"}', 0],
    ['one part only: the field name of a message', '{"msg":"registrationId 1002 type 3"}', 0],
  ]
  for (const [name, line, found] of cases) {
    const audit = setup(tt, secrets, line + '\n')
    tt.equal(audit.leaks.length, found, name)
    tt.same([audit.asTokens, audit.byParts, audit.unsearchable], [0, 2, 0], `${name}: both searched by their parts`)
  }
})

t.test('a secret no part of which can be a token is counted as unsearchable, not as searched', async (tt) => {
  const audit = setup(tt, ['ab cd ef', key], `{"msg":"ab cd ef"}\n`)
  tt.same([audit.secrets, audit.asTokens, audit.byParts, audit.unsearchable], [2, 1, 0, 1])
  tt.same(audit.leaks, [], 'not reported found either: it was not looked for')
})

t.test('secrets are counted by source, and a declared source that recorded none is named', async (tt) => {
  const audit = setup(
    tt,
    [
      ['helper', key],
      ['sdk', key],
      ['sdk', jwt],
      ['socket', '123456'],
    ],
    '{"msg":"clean"}\n',
    ['helper', 'sdk', 'fuzz', 'spawned'],
  )
  tt.equal(audit.secrets, 3, 'distinct secrets, whoever recorded them')
  tt.same(audit.bySource, { helper: 1, sdk: 2, socket: 1 })
  tt.same(audit.silent, ['fuzz', 'spawned'], 'declared traffic, recorded nothing: a hole')
  tt.same(setup(tt, [['helper', key]], '', ['helper']).silent, [], 'no hole when each declared source recorded')
})
