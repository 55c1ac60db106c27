// Tokens have one spelling: a token whose segments are not canonical base64url is refused, even
// when it decodes to the same bytes (the spare bits of a segment's last character).
import t from 'tap'
import { build, signUp } from '../helper.js'

/** Every string that differs from `s` in exactly one bit of one character. */
function oneBitChanges(s: string): string[] {
  const out: string[] = []
  for (let i = 0; i < s.length; i++)
    for (let bit = 0; bit < 8; bit++)
      out.push(s.slice(0, i) + String.fromCharCode(s.charCodeAt(i) ^ (1 << bit)) + s.slice(i + 1))
  return out
}

/** Characters a client can put in a header value (no controls, no DEL): what an HTTP request can carry. */
const sendable = (s: string) => /^[\x20-\x7e\x80-\xff]*$/.test(s)

/** The other spellings of a base64url string's last character that decode to the same bytes. */
function sameBytesSpellings(segment: string): string[] {
  const bytes = Buffer.from(segment, 'base64url')
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
  return [...alphabet]
    .map((c) => segment.slice(0, -1) + c)
    .filter((s) => s !== segment && Buffer.from(s, 'base64url').equals(bytes))
}

t.test('every one-bit change to a valid login token is refused with 401', async (tt) => {
  const { api } = await build(tt)
  const user = await signUp(api)
  const me = await api.get('/auth/users/me/', { token: user.token })
  tt.equal(me.status, 200, 'the token itself works')

  const changes = oneBitChanges(user.token).filter(sendable)
  // ASCII: 7 bits of each character reach the header (bit 7 makes a Latin-1 character, sendable too);
  // only flips that make a control character or DEL cannot travel.
  tt.ok(changes.length >= user.token.length * 7, `${changes.length} changed tokens to try`)
  const accepted: string[] = []
  const statuses = new Set<number>()
  for (const token of changes) {
    const res = await api.get('/auth/users/me/', { headers: { authorization: `Bearer ${token}` } })
    statuses.add(res.status)
    if (res.status !== 401 || res.body?.code !== 'not_authenticated') accepted.push(token)
  }
  tt.same(accepted, [], 'no changed token gets anything but 401 not_authenticated')
  tt.same([...statuses], [401])

  const signature = user.token.split('.')[2]
  const twins = sameBytesSpellings(signature)
  tt.ok(twins.length > 0, 'the signature has other spellings of the same bytes')
  for (const twin of twins) {
    const token = user.token.replace(/[^.]+$/, twin)
    const res = await api.get('/auth/users/me/', { token })
    tt.equal(res.status, 401, `same signature bytes, spelled ${twin.slice(-3)}: 401`)
  }
  const again = await api.get('/auth/users/me/', { token: user.token })
  tt.equal(again.status, 200, 'the canonical token still works')
})

t.test('the ephemeral 2FA token has one spelling too', async (tt) => {
  const { app } = await build(tt)
  const token = app.auth.issueEphemeralToken(42)
  tt.equal(app.auth.verifyEphemeralToken(token)?.userId, 42, 'the token itself verifies')
  const signature = token.split('.')[2]
  const twins = sameBytesSpellings(signature)
  tt.ok(twins.length > 0)
  for (const twin of twins)
    tt.equal(app.auth.verifyEphemeralToken(token.replace(/[^.]+$/, twin)), undefined, `spelled ${twin.slice(-3)}`)
  const refused = oneBitChanges(token).filter((changed) => app.auth.verifyEphemeralToken(changed) !== undefined)
  tt.same(refused, [], 'no one-bit change verifies')
})
