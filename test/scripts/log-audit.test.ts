import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { auditLogs } from '../../scripts/log-audit.js'

// The audit npm test runs over the whole suite's logs must find a secret wherever a log line could
// carry it, and must not cry wolf at a code that happens to sit inside a timestamp.

function setup(tt: Test, secrets: string[], log: string) {
  const dir = mkdtempSync(join(tmpdir(), 'log-audit-'))
  tt.teardown(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, '1.secrets'), secrets.map((s) => JSON.stringify(s)).join('\n') + '\n')
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
