import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { build, buildWithMail, signUp, uniqueEmail, PASSWORD, type Api, type ApiResponse } from '../helper.js'
import { fakeClock } from '../mfa-helpers.js'
import { diff, snapshot } from './db-snapshot.js'
import type { LockScope } from '../../db/auth-failures.js'
import { resetInvalidPage } from '../../lib/reset-page.js'

// Guessing passwords and reset links: per-account locks (plugins/lockout.ts) on top of per-IP
// throttles. A lock must be invisible from outside (the right guess answers like a wrong one) and
// a refused guess must change nothing but its own failure count. 2FA codes: brute-force-mfa.test.ts.

const LOCK = { lockoutThreshold: 3, lockoutDuration: 2 }
const WRONG = 'wrong-password-123'
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Everything a client sees of an answer, but the Date header. */
const seen = ({ status, text, headers }: ApiResponse) => {
  const { date: _date, ...rest } = headers
  return { status, text, headers: rest }
}

const login = (api: Api, email: string, password: string, remoteAddress?: string) =>
  api.post('/auth/login/', { email, password }, { remoteAddress })

const failureRows = (app: FastifyInstance, scope?: LockScope) =>
  app.db
    .knex('auth_failures')
    .where(scope ? { scope } : {})
    .select('scope', 'user_id', 'failures', 'window_started_at', 'locked_until')

/** Sends a request that must be refused; whatever it answers, no row but auth_failures may change. */
async function refused(tt: Test, app: FastifyInstance, send: () => Promise<ApiResponse>, label: string) {
  const before = await snapshot(app)
  const res = await send()
  tt.same(diff(before, await snapshot(app)), [], `${label}: nothing changed`)
  return res
}

// First in the file: lib/passwords.ts keeps the dummy hash of the first cost it is asked for.
t.test('an unknown email costs a login about as much bcrypt work as a wrong password', async (tt) => {
  const { api } = await build(tt, { bcryptCost: 10 })
  const user = await signUp(api)
  await login(api, uniqueEmail(), WRONG) // makes the dummy hash, once per process
  const cpu = async (send: () => Promise<unknown>) => {
    const start = process.cpuUsage() // every thread, bcrypt's pool included
    for (let i = 0; i < 3; i++) await send()
    const { user: u, system: s } = process.cpuUsage(start)
    return u + s
  }
  const invalid = await cpu(() => api.post('/auth/login/', { email: 'not-an-email', password: WRONG }))
  const wrong = await cpu(() => login(api, user.email, WRONG))
  const unknown = await cpu(() => login(api, uniqueEmail(), WRONG))
  tt.ok(
    wrong > 5 * invalid,
    `a wrong password runs bcrypt (${wrong} µs vs ${invalid} µs for a request that never reaches it)`,
  )
  tt.ok(unknown > 0.3 * wrong, `an unknown email runs it too (${unknown} µs vs ${wrong} µs)`)
})

t.test('verifyPassword without a stored hash runs bcrypt against a hash of the same cost', async (tt) => {
  const bcrypt = await import('@node-rs/bcrypt')
  const calls: { fn: string; args: unknown[] }[] = []
  // A fresh copy of the module, so its dummy hash is made here at cost 5.
  const { verifyPassword } = await tt.mockImport<typeof import('../../lib/passwords.js')>('../../lib/passwords.js', {
    '@node-rs/bcrypt': {
      hash: (...args: Parameters<typeof bcrypt.hash>) => {
        calls.push({ fn: 'hash', args })
        return bcrypt.hash(...args)
      },
      verify: (...args: Parameters<typeof bcrypt.verify>) => {
        calls.push({ fn: 'verify', args })
        return bcrypt.verify(...args)
      },
    },
  })
  tt.equal(await verifyPassword(PASSWORD, undefined, 5), false)
  tt.equal(
    await verifyPassword('dummy password for timing', undefined, 5),
    false,
    'false even for the dummy password itself',
  )
  tt.same(
    calls.map((c) => c.fn),
    ['hash', 'verify', 'verify'],
    'the dummy hash is made once, then checked on every call',
  )
  tt.equal(calls[0].args[1], 5)
  tt.match(calls[1].args[1], /^\$2[aby]\$05\$.{53}$/, 'checked against a full cost-5 hash')
  tt.equal(calls[2].args[1], calls[1].args[1])
  tt.equal(
    await bcrypt.verify(String(calls[1].args[0]), String(calls[1].args[1])),
    false,
    'a real comparison that fails',
  )
})

t.test(
  'login: a locked account refuses the right password exactly as a wrong one, until the duration passes',
  async (tt) => {
    const { app, api } = await build(tt, LOCK)
    const victim = await signUp(api)
    const other = await signUp(api)
    const wrongAnswer = seen(await login(api, victim.email, WRONG))
    tt.equal(
      wrongAnswer.text,
      JSON.stringify({ code: 'invalid_credentials', message: 'Unable to log in with the provided credentials.' }),
    )
    tt.equal(wrongAnswer.status, 400)
    tt.equal((await login(api, victim.email, WRONG)).status, 400)
    tt.equal((await login(api, victim.email, WRONG)).status, 400, 'the third wrong password locks')
    const lock = await failureRows(app, 'login')
    tt.equal(lock.length, 1)
    tt.equal(lock[0].user_id, victim.id)

    for (let i = 0; i < 2; i++) {
      const right = await refused(tt, app, () => login(api, victim.email, PASSWORD), 'right password while locked')
      tt.same(seen(right), wrongAnswer, 'answered exactly like a wrong password')
    }
    tt.same(seen(await login(api, uniqueEmail(), PASSWORD)), wrongAnswer, 'and like an unknown email')
    tt.same(await failureRows(app, 'login'), lock, 'attempts on a locked account neither count nor extend the lock')

    tt.equal(
      (await login(api, other.email, other.password)).status,
      200,
      'another account logs in from the same address',
    )

    await sleep(LOCK.lockoutDuration * 1000 + 200)
    const after = await login(api, victim.email, PASSWORD)
    tt.equal(after.status, 200, 'the right password works once the duration has passed')
    tt.equal((await api.get('/auth/users/me/', { token: after.body.auth_token })).body.email, victim.email)
    tt.same(await failureRows(app, 'login'), [], 'the success forgot the lock')
  },
)

t.test('login: guesses spread over many addresses still lock the account', async (tt) => {
  const { api } = await build(tt, { ...LOCK, lockoutDuration: 900, throttleAnon: '3/minute' })
  const victim = await signUp(api)
  for (const ip of ['198.51.100.1', '198.51.100.2', '198.51.100.3']) {
    tt.equal((await login(api, victim.email, WRONG, ip)).body.code, 'invalid_credentials', ip)
  }
  const fresh = await login(api, victim.email, PASSWORD, '198.51.100.4')
  tt.equal(fresh.status, 400, 'a new address with the right password is refused')
  tt.equal(fresh.body.code, 'invalid_credentials')
})

t.test('login: a burst of parallel guesses gets no more than lockoutThreshold of them judged', async (tt) => {
  const { app, api } = await build(tt, { ...LOCK, lockoutDuration: 900 })
  const victim = await signUp(api)
  // guard() is where a guess is judged against the lock; count the guesses it lets through.
  let judged = 0
  const guard = app.lockout.guard
  app.lockout.guard = (scope, userId, attempt) =>
    guard(scope, userId, () => {
      judged++
      return attempt()
    })
  const burst = await Promise.all(
    Array.from({ length: 12 }, (_, i) => login(api, victim.email, `${WRONG}-${i}`, `198.51.100.${i + 1}`)),
  )
  tt.same(new Set(burst.map((r) => r.body.code)), new Set(['invalid_credentials']))
  tt.equal(judged, LOCK.lockoutThreshold, 'guesses judged')
  tt.equal((await login(api, victim.email, PASSWORD)).body.code, 'invalid_credentials', 'and the account is locked')
})

t.test('login: a success clears the failures', async (tt) => {
  const { app, api } = await build(tt, LOCK)
  const user = await signUp(api)
  for (let i = 0; i < 2; i++) tt.equal((await login(api, user.email, WRONG)).status, 400)
  tt.same(
    (await failureRows(app, 'login')).map((r) => r.failures),
    [2],
  )
  tt.equal((await login(api, user.email, PASSWORD)).status, 200)
  tt.same(await failureRows(app, 'login'), [])
  for (let i = 0; i < 2; i++) tt.equal((await login(api, user.email, WRONG)).status, 400)
  tt.equal((await login(api, user.email, PASSWORD)).status, 200, 'two new failures are not three')
})

t.test('login: an unknown email answers like a wrong password and writes nothing, however often', async (tt) => {
  const { app, api } = await build(tt, LOCK)
  const user = await signUp(api)
  const wrongAnswer = seen(await login(api, user.email, WRONG))
  await app.db.knex('auth_failures').delete()
  const stranger = uniqueEmail('stranger')
  for (let i = 0; i < LOCK.lockoutThreshold + 2; i++) {
    const res = await refused(tt, app, () => login(api, stranger, PASSWORD), `unknown email, try ${i + 1}`)
    tt.same(seen(res), wrongAnswer)
  }
  tt.same(await failureRows(app), [], 'no failure row either')
})

t.test('login: past the per-address throttle every attempt is 429, whatever the account', async (tt) => {
  const { app, api } = await build(tt, { throttleAnon: '3/minute' })
  const victim = await signUp(api) // two requests from 127.0.0.1
  const attacker = '203.0.113.9'
  tt.equal((await login(api, victim.email, WRONG, attacker)).status, 400)
  tt.equal((await login(api, uniqueEmail(), WRONG, attacker)).status, 400)
  tt.equal((await login(api, uniqueEmail(), PASSWORD, attacker)).status, 400)
  const fourth = await refused(tt, app, () => login(api, victim.email, PASSWORD, attacker), 'throttled')
  tt.equal(fourth.status, 429)
  tt.equal(fourth.body.code, 'throttled')
  tt.match(String(fourth.headers['retry-after']), /^[1-9][0-9]*$/)
  tt.equal((await login(api, victim.email, PASSWORD, '203.0.113.10')).status, 200, 'another address is not throttled')
})

// ---- password reset ------------------------------------------------------------------------

const LINK = /\/auth\/password\/reset\/confirm\/([^/\s]+)\/([^/\s]+)\//

async function resetSetup(tt: Test) {
  const built = await buildWithMail(tt, { lockoutThreshold: 3, lockoutDuration: 60 })
  const clock = fakeClock(tt)
  // The link is mailed after the 204. These promises tell when the server has decided whether to
  // send one (lockout.take), after which the send starts at once.
  const decided: Promise<boolean>[] = []
  const started: string[] = []
  const { lockout, mailer } = built.app
  const { take } = lockout
  lockout.take = (scope, userId) => {
    const allowed = take(scope, userId)
    if (scope === 'reset') decided.push(allowed)
    return allowed
  }
  const send = mailer.send
  mailer.send = (mail) => {
    started.push(mail.to)
    return send(mail)
  }
  /** Resolves once every reset request so far has mailed its link or decided not to. */
  async function settled() {
    await Promise.all(decided)
    await new Promise((resolve) => setImmediate(resolve))
  }
  /** Asks for a reset link; the link when one was mailed. */
  async function ask(email: string) {
    const [mails, sent] = [built.smtp.mails.length, started.length]
    const res = await built.api.post('/auth/password/reset/', { email })
    await settled()
    const link = started.length > sent ? LINK.exec((await built.smtp.next(email, mails)).text) : null
    return { res, link: link && { uid: link[1], token: link[2], path: link[0] } }
  }
  return { ...built, clock, started, ask, settled, user: await signUp(built.api) }
}

t.test(
  'reset request: the same full answer for registered and unknown emails; mail only for the registered',
  async (tt) => {
    const { user, started, ask } = await resetSetup(tt)
    const unknown = await ask(uniqueEmail('stranger'))
    const known = await ask(user.email)
    tt.same(seen(known.res), seen(unknown.res))
    tt.equal(known.res.status, 204)
    tt.equal(known.res.text, '')
    tt.equal(unknown.link, null)
    tt.ok(known.link)
    tt.same(started, [user.email])
  },
)

t.test('reset request: at most lockoutThreshold mails per account per duration, silently', async (tt) => {
  const { user, started, ask, clock, api } = await resetSetup(tt)
  const other = await signUp(api)
  const answers = []
  for (let i = 0; i < 5; i++) answers.push(await ask(user.email))
  tt.same(
    answers.map((a) => Boolean(a.link)),
    [true, true, true, false, false],
  )
  for (const a of answers) tt.same(seen(a.res), seen(answers[0].res), 'every answer is the same 204')
  tt.ok((await ask(other.email)).link, 'another account still gets its mail')
  clock.advance(61)
  tt.ok((await ask(user.email)).link, 'mails resume after the duration')
  tt.equal(started.filter((to) => to === user.email).length, 4)
})

t.test('reset request: parallel requests do not mail more than lockoutThreshold either', async (tt) => {
  const { api, user, started, smtp, settled } = await resetSetup(tt)
  const answers = await Promise.all(
    Array.from({ length: 8 }, () => api.post('/auth/password/reset/', { email: user.email })),
  )
  tt.same(new Set(answers.map((a) => a.status)), new Set([204]))
  await settled()
  tt.equal(started.length, 3, 'mails sent')
  await smtp.next(user.email) // before the SMTP server closes
})

t.test(
  'reset confirm: a used token is dead; wrong tokens lock even the right one until the duration passes',
  async (tt) => {
    const { app, api, user, ask, clock } = await resetSetup(tt)
    const other = await signUp(api)
    const confirm = (resetLink: { uid: string; token: string }, new_password = 'staple-lantern-orbit') =>
      api.post('/auth/password/reset/confirm/', { uid: resetLink.uid, token: resetLink.token, new_password })
    const used = (await ask(user.email)).link!
    tt.equal((await confirm(used)).status, 204)
    const replay = await refused(tt, app, () => confirm(used, 'another-new-passphrase'), 'used token')
    tt.same([replay.status, replay.body.code], [400, 'invalid_token'])
    tt.equal((await login(api, user.email, 'staple-lantern-orbit')).status, 200, 'the replay did not set its password')

    const link = (await ask(user.email)).link!
    const flipped = link.token.slice(0, -1) + (link.token.endsWith('0') ? '1' : '0')
    for (const token of [flipped, used.token]) {
      const res = await refused(tt, app, () => confirm({ uid: link.uid, token }), 'wrong token')
      tt.same([res.status, res.body.code], [400, 'invalid_token'])
    }
    // With the replay above, three wrong tokens: the account's confirm is locked.
    const locked = await refused(tt, app, () => confirm(link), 'right token while locked')
    tt.same([locked.status, locked.body.code], [400, 'invalid_token'])
    const page = await refused(tt, app, () => api.get(link.path), 'reset page while locked')
    tt.equal(page.status, 400, 'the page answers 400 for a link it calls invalid')
    tt.equal(page.text, resetInvalidPage(app.config.applicationName), 'the page calls the right link invalid')
    const theirs = (await ask(other.email)).link!
    tt.equal((await confirm(theirs)).status, 204, 'another account resets its password')

    clock.advance(61)
    tt.equal((await confirm(link, 'orbit-lantern-staple')).status, 204, 'the right token works after the duration')
    tt.equal((await login(api, user.email, 'orbit-lantern-staple')).status, 200)
  },
)

t.test('a reset token is not a Bearer token', async (tt) => {
  const { app, api, user, ask } = await resetSetup(tt)
  const { token, uid } = (await ask(user.email)).link!
  for (const value of [token, `${uid}/${token}`]) {
    const res = await refused(tt, app, () => api.get('/auth/users/me/', { token: value }), value)
    tt.same([res.status, res.body.code], [401, 'not_authenticated'])
  }
})
