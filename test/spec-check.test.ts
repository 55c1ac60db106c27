import t from 'tap'
import { checkAgainstSpec } from './spec-check.js'

// The checker itself: each kind of breach it exists to catch must fail, and the answers the server
// really gives must pass. Every response of the suite goes through it, so a blind spot here is one
// everywhere.

const json = 'application/json; charset=utf-8'
const throttled = { code: 'throttled', message: 'Request was throttled. Expected available in 60 seconds.' }

t.test('429: Retry-After must be there, as a whole number of seconds', async (tt) => {
  const ok = { status: 429, contentType: json, body: throttled }
  tt.same(checkAgainstSpec('GET', '/auth/users/me/', { ...ok, headers: { 'retry-after': '60' } }), [], 'with it')
  tt.same(
    checkAgainstSpec('GET', '/auth/users/me/', { ...ok, headers: { 'Retry-After': 60 } }),
    [],
    'any case, a number',
  )
  tt.matchOnly(checkAgainstSpec('GET', '/auth/users/me/', { ...ok, headers: {} }), [
    /getMe: 429: the Retry-After header is missing/,
  ])
  tt.matchOnly(checkAgainstSpec('GET', '/auth/users/me/', { ...ok, headers: { 'retry-after': 'soon' } }), [
    /getMe: 429: the Retry-After header "soon" does not match/,
  ])
  tt.matchOnly(checkAgainstSpec('GET', '/auth/users/me/', { ...ok, headers: { 'retry-after': '1.5' } }), [
    /Retry-After header "1.5" does not match: .*integer/,
  ])
  tt.matchOnly(
    checkAgainstSpec('GET', '/auth/users/me/', { ...ok, headers: new Headers() }),
    [/Retry-After header is missing/],
    "fetch's Headers too",
  )
  tt.same(checkAgainstSpec('GET', '/auth/users/me/', { ...ok, headers: new Headers({ 'Retry-After': '3' }) }), [])
})

t.test('426: the Upgrade header the spec declares', async (tt) => {
  const res = { status: 426, contentType: json, body: { code: 'upgrade_required', message: 'Open it as a WebSocket.' } }
  const url = '/messages/12/websocket/'
  tt.same(checkAgainstSpec('GET', url, { ...res, headers: { upgrade: 'websocket' } }), [])
  tt.matchOnly(checkAgainstSpec('GET', url, { ...res, headers: {} }), [
    /openMessageSocket: 426: the Upgrade header is missing/,
  ])
})

t.test('405 outside any operation: Allow names exactly the methods the spec defines for the path', async (tt) => {
  const res = {
    status: 405,
    contentType: json,
    body: { code: 'method_not_allowed', message: 'Method POST is not allowed here.' },
  }
  tt.same(checkAgainstSpec('POST', '/health/live', { ...res, headers: { allow: 'GET' } }), [])
  // A path with two methods and no PUT (/auth/users/me/ has PUT since the account surface).
  tt.same(checkAgainstSpec('PUT', '/v2/devices/', { ...res, headers: { allow: 'POST, GET' } }), [], 'in any order')
  tt.matchOnly(checkAgainstSpec('POST', '/health/live', { ...res, headers: {} }), [
    /POST \/health\/live: 405 without an Allow header/,
  ])
  tt.matchOnly(checkAgainstSpec('POST', '/health/live', { ...res, headers: { allow: 'GET, POST' } }), [
    /405 Allow "GET, POST", but the spec defines GET here/,
  ])
})

t.test('429 outside any operation owes Retry-After too; other statuses are not generic answers', async (tt) => {
  const res = { status: 429, contentType: json, body: throttled }
  tt.same(checkAgainstSpec('GET', '/nowhere/', { ...res, headers: { 'retry-after': '5' } }), [])
  tt.matchOnly(checkAgainstSpec('GET', '/nowhere/', { ...res, headers: {} }), [
    /GET \/nowhere\/: 429: the Retry-After header is missing/,
  ])
  tt.matchOnly(checkAgainstSpec('GET', '/nowhere/', { status: 500, contentType: json, body: {}, headers: {} }), [
    /no operation, and status 500/,
  ])
  tt.matchOnly(
    checkAgainstSpec('GET', '/nowhere/', { status: 404, contentType: json, body: { detail: 'x' }, headers: {} }),
    [/404 body is not the error shape/],
  )
})

t.test('statuses and bodies', async (tt) => {
  tt.matchOnly(checkAgainstSpec('GET', '/auth/users/me/', { status: 418, contentType: json, body: {}, headers: {} }), [
    /getMe: status 418 is not documented/,
  ])
  tt.same(
    checkAgainstSpec('GET', '/auth/users/me/', {
      status: 200,
      contentType: json,
      body: { id: 1, email: 'a@example.com' },
      headers: {},
    }),
    [],
  )
  tt.matchOnly(
    checkAgainstSpec('GET', '/auth/users/me/', { status: 200, contentType: json, body: { id: 'one' }, headers: {} }),
    [/getMe: 200 body does not match/],
  )
  tt.matchOnly(
    checkAgainstSpec('GET', '/auth/users/me/', { status: 200, contentType: 'text/plain', body: 'hi', headers: {} }),
    [/getMe: 200 content-type text\/plain is not documented/],
  )
  tt.same(
    checkAgainstSpec('GET', '/messages/7/websocket/', { status: 101, contentType: '', body: undefined, headers: {} }),
    [],
  )
  tt.matchOnly(
    checkAgainstSpec('GET', '/messages/7/websocket/', { status: 101, contentType: '', body: 'hello', headers: {} }),
    [/openMessageSocket: 101 should have no body/],
  )
})
