import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { build, deviceBody, PASSWORD, signUp, userWithDevice, type Api } from '../helper.js'
import { enableApp, fakeClock, totp, wrongTotp } from '../mfa-helpers.js'

// POST /auth/login/ and /auth/login/code/ with `deviceId`: a token bound to that device of the account.

type User = Awaited<ReturnType<typeof userWithDevice>>

let nextRegistrationId = 600_000

/** Alice with device 1 (POST /device/) and device 2 (POST /v2/devices/). */
async function aliceWithTwo(api: Api) {
  const alice = await userWithDevice(api)
  const registrationId = ++nextRegistrationId
  const res = await api.post('/v2/devices/', deviceBody(registrationId, `laptop-${registrationId}`), {
    token: alice.token,
  })
  if (res.status !== 201) throw new Error(`add device failed: ${res.status} ${res.text}`)
  return { ...alice, second: { deviceId: res.body.deviceId as number, registrationId } }
}

const sessions = async (app: FastifyInstance, where: Record<string, unknown>) =>
  Number((await app.db.knex('sessions').where(where).count({ n: '*' }))[0].n)

/** The device row key of the account's device number `deviceId`. */
const rowId = async (app: FastifyInstance, userId: number, deviceId: number) =>
  (await app.db.knex('devices').where({ user_id: userId, device_id: deviceId }).first()).id as number

/** The device number the token's session is bound to, or null. */
async function boundTo(app: FastifyInstance, token: string): Promise<number | null> {
  const { sid } = app.jwt.decode<{ sid: string }>(token)!
  const row = await app.db
    .knex('sessions')
    .leftJoin('devices', 'devices.id', 'sessions.device_id')
    .where('sessions.id', sid)
    .first('devices.device_id')
  if (!row) throw new Error('no such session')
  return row.device_id ?? null
}

/** A one-message send to bob's only device. */
const sendToBob = (api: Api, token: string, bob: User) =>
  api.request(
    'PUT',
    `/v2/messages/${bob.email}/`,
    { messages: [{ deviceId: 1, registrationId: bob.registrationId, content: 'sealed' }] },
    { token },
  )

t.test('POST /auth/login/ with deviceId answers a token bound to that device', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await aliceWithTwo(api)
  const bob = await userWithDevice(api)

  const login = await api.post('/auth/login/', { email: alice.email, password: PASSWORD, deviceId: 2 })
  tt.equal(login.status, 200)
  tt.same(Object.keys(login.body), ['auth_token'])
  const token = login.body.auth_token as string
  tt.equal(await boundTo(app, token), 2)

  const sent = await sendToBob(api, token, bob)
  tt.equal(sent.status, 200, 'a bound token sends with PUT /v2/messages/')
  tt.equal(sent.body.messages.length, 1)
  const row = await app.db.knex('messages').where({ id: sent.body.messages[0].id }).first()
  tt.equal(row.sender_device_id, 2, 'as device 2')
  tt.equal(row.sender_registration_id, alice.second.registrationId)

  tt.equal((await api.get(`/messages/${alice.second.registrationId}/`, { token })).status, 200, 'its own device')
  const other = await api.get(`/messages/${alice.registrationId}/`, { token })
  tt.equal(other.status, 403, 'not device 1')
  tt.equal(other.body.code, 'device_changed')

  const one = await api.post('/auth/login/', { email: alice.email, password: PASSWORD, deviceId: 1 })
  tt.equal(one.status, 200)
  tt.equal(await boundTo(app, one.body.auth_token), 1, 'device 1 can be bound too')
  const wrongOne = await api.get(`/messages/${alice.second.registrationId}/`, { token: one.body.auth_token })
  tt.equal(wrongOne.body.code, 'device_changed')
})

t.test('a token from a login without deviceId is unbound: 403 device_required on PUT /v2/messages/', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await aliceWithTwo(api)
  const bob = await userWithDevice(api)
  const login = await api.post('/auth/login/', { email: alice.email, password: PASSWORD })
  tt.equal(login.status, 200)
  tt.equal(await boundTo(app, login.body.auth_token), null)
  const before = Number((await app.db.knex('messages').count({ n: '*' }))[0].n)
  for (const token of [login.body.auth_token, alice.token]) {
    const res = await sendToBob(api, token, bob)
    tt.equal(res.status, 403)
    tt.equal(res.body.code, 'device_required')
  }
  tt.equal(Number((await app.db.knex('messages').count({ n: '*' }))[0].n), before, 'nothing stored')
  // It acts for whichever device the path names.
  tt.equal((await api.get(`/messages/${alice.second.registrationId}/`, { token: login.body.auth_token })).status, 200)
  tt.equal((await api.get(`/messages/${alice.registrationId}/`, { token: login.body.auth_token })).status, 200)
})

t.test('an unknown deviceId is 404 no_device, only once the password was right', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await aliceWithTwo(api)
  const deviceless = await signUp(api)
  // Device 2 removed: its number is unknown now.
  const removed = await userWithDevice(api)
  const add = await api.post('/v2/devices/', deviceBody(++nextRegistrationId), { token: removed.token })
  tt.equal((await api.delete('/v2/devices/2/', { currentPassword: PASSWORD }, { token: removed.token })).status, 204)
  tt.equal(add.body.deviceId, 2)

  const userIds = [alice.id, deviceless.id, removed.id]
  const before = await Promise.all(userIds.map((id) => sessions(app, { user_id: id })))
  for (const [name, user, deviceId] of [
    ['a number the account never had', alice, 3],
    ['a large number', alice, 999999999],
    ['an account without devices', deviceless, 1],
    ['a removed device', removed, 2],
  ] as const) {
    const res = await api.post('/auth/login/', { email: user.email, password: PASSWORD, deviceId })
    tt.equal(res.status, 404, `${name}: status`)
    tt.equal(res.body.code, 'no_device', `${name}: code`)
    tt.notOk('auth_token' in res.body, `${name}: no token`)

    const wrong = await api.post('/auth/login/', { email: user.email, password: 'wrong-password-123', deviceId })
    tt.equal(wrong.status, 400, `${name}, wrong password: the password is checked first`)
    tt.equal(wrong.body.code, 'invalid_credentials', `${name}, wrong password: code`)
  }
  const unknownUser = await api.post('/auth/login/', { email: 'nobody@example.com', password: PASSWORD, deviceId: 1 })
  tt.equal(unknownUser.status, 400)
  tt.equal(unknownUser.body.code, 'invalid_credentials')
  tt.same(await Promise.all(userIds.map((id) => sessions(app, { user_id: id }))), before, 'no session was opened')
})

t.test('deviceId 0 or a string is 400 invalid_data', async (tt) => {
  const { api } = await build(tt)
  const alice = await aliceWithTwo(api)
  for (const deviceId of [0, -1, '2', 1.5, 1_000_000_000]) {
    const res = await api.post('/auth/login/', { email: alice.email, password: PASSWORD, deviceId })
    tt.equal(res.status, 400, `${JSON.stringify(deviceId)}: status`)
    tt.equal(res.body.code, 'invalid_data', `${JSON.stringify(deviceId)}: code`)
  }
})

t.test('with 2FA: deviceId at /auth/login/ is carried to /auth/login/code/; one given there wins', async (tt) => {
  const { app, api } = await build(tt)
  const clock = fakeClock(tt)
  const alice = await aliceWithTwo(api)
  const { secret, backupCodes } = await enableApp(api, alice.token, clock)
  const challenge = async (deviceId?: number) => {
    const res = await api.post('/auth/login/', {
      email: alice.email,
      password: PASSWORD,
      ...(deviceId !== undefined && { deviceId }),
    })
    tt.equal(res.status, 200)
    tt.same(Object.keys(res.body).sort(), ['ephemeral_token', 'method'], 'a challenge, no token yet')
    return res.body.ephemeral_token as string
  }

  const carried = await api.post('/auth/login/code/', { ephemeral_token: await challenge(2), code: await totp(secret) })
  tt.equal(carried.status, 200)
  tt.equal(await boundTo(app, carried.body.auth_token), 2, 'given at /auth/login/')

  const wins = await api.post('/auth/login/code/', {
    ephemeral_token: await challenge(2),
    code: backupCodes[0],
    deviceId: 1,
  })
  tt.equal(wins.status, 200)
  tt.equal(await boundTo(app, wins.body.auth_token), 1, 'given at /auth/login/code/ wins')

  const late = await api.post('/auth/login/code/', {
    ephemeral_token: await challenge(),
    code: backupCodes[1],
    deviceId: 2,
  })
  tt.equal(await boundTo(app, late.body.auth_token), 2, 'given at /auth/login/code/ only')

  const neither = await api.post('/auth/login/code/', { ephemeral_token: await challenge(), code: backupCodes[2] })
  tt.equal(neither.status, 200)
  tt.equal(await boundTo(app, neither.body.auth_token), null, 'given nowhere: unbound')
  const boundToTwo = await sessions(app, { device_id: await rowId(app, alice.id, 2) })
  tt.equal(boundToTwo, 3, "bound to device 2: POST /v2/devices/'s token and two logins")
})

t.test('with 2FA: an unknown deviceId is 404 no_device only after a right code', async (tt) => {
  const { app, api } = await build(tt)
  const clock = fakeClock(tt)
  const alice = await aliceWithTwo(api)
  const { secret, backupCodes } = await enableApp(api, alice.token, clock)
  const before = await sessions(app, { user_id: alice.id })

  const atLogin = await api.post('/auth/login/', { email: alice.email, password: PASSWORD, deviceId: 7 })
  tt.equal(atLogin.status, 200, '/auth/login/ does not tell before the code')
  tt.type(atLogin.body.ephemeral_token, 'string')
  const wrongCarried = await api.post('/auth/login/code/', {
    ephemeral_token: atLogin.body.ephemeral_token,
    code: await wrongTotp(secret),
  })
  tt.equal(wrongCarried.status, 400, 'a wrong code: the code is checked first')
  tt.equal(wrongCarried.body.code, 'invalid_code')
  const rightCarried = await api.post('/auth/login/code/', {
    ephemeral_token: atLogin.body.ephemeral_token,
    code: await totp(secret),
  })
  tt.equal(rightCarried.status, 404, 'a right code, the carried device unknown')
  tt.equal(rightCarried.body.code, 'no_device')

  const plain = await api.post('/auth/login/', { email: alice.email, password: PASSWORD })
  const wrongHere = await api.post('/auth/login/code/', {
    ephemeral_token: plain.body.ephemeral_token,
    code: 'notabackupcode',
    deviceId: 9,
  })
  tt.equal(wrongHere.status, 400)
  tt.equal(wrongHere.body.code, 'invalid_code')
  const rightHere = await api.post('/auth/login/code/', {
    ephemeral_token: plain.body.ephemeral_token,
    code: backupCodes[0],
    deviceId: 9,
  })
  tt.equal(rightHere.status, 404)
  tt.equal(rightHere.body.code, 'no_device')

  // A known device given at /auth/login/code/ overrides an unknown one carried from /auth/login/.
  const unknownCarried = await api.post('/auth/login/', { email: alice.email, password: PASSWORD, deviceId: 7 })
  const overridden = await api.post('/auth/login/code/', {
    ephemeral_token: unknownCarried.body.ephemeral_token,
    code: backupCodes[1],
    deviceId: 2,
  })
  tt.equal(overridden.status, 200)
  tt.equal(await boundTo(app, overridden.body.auth_token), 2)
  tt.equal(await sessions(app, { user_id: alice.id }), before + 1, 'only the last one opened a session')
})
