// Seeds the accounts the scenarios use, through the HTTP API as clients would make them: sign-up,
// login, device registration with real libsignal keys (the server verifies the signatures),
// prekey uploads and queued messages.
import { randomBytes } from 'node:crypto'
import { PrivateKey } from '@signalapp/libsignal-client'
import { isV2, V2_DEVICES, type Scenario, type V2Scenario } from './options.js'

export type Account = { email: string; password: string; token: string; registrationId: number }
/** An account with several devices: its email and each device's number and registration ID. */
export type V2Account = { email: string; devices: { deviceId: number; registrationId: number }[] }
export type Credentials = { email: string; password: string }

/** Each pool has (at least) one account per connection of the largest run, so no two connections share a queue. */
export type Seeded = {
  /** Senders for send and fetch-and-ack, and the claimers of the bundle scenario: none of these keeps state. */
  senders: Account[]
  /** Several per connection; the send scenario goes round all of them. */
  sendRecipients: Account[]
  /** Each with exactly FETCH_QUEUE messages queued; the fetch scenario only reads them. */
  fetchRecipients: Account[]
  /** Empty queues, each drained by its own connection. */
  ackRecipients: Account[]
  /** Holding the one-time prekeys the bundle scenario claims, spread evenly. */
  bundleRecipients: Account[]
  /** Accounts whose password hash was made at the server's real bcrypt cost. */
  loginUsers: Credentials[]
  /** send-v2-N: senders whose tokens are bound to their device 1 (PUT /v2/messages/ needs one). */
  v2Senders: Account[]
  /** send-v2-N: SEND_RECIPIENTS_PER_CONNECTION accounts per connection, each with N devices. */
  v2Recipients: Partial<Record<V2Scenario, V2Account[]>>
  /** Scale check only: bulk-loaded devices with long queues, logged in through the API. */
  longQueue?: LongQueue
}

/** Each target's queue holds exactly `length` messages from `sender` (the bulk load's) when a run starts. */
type LongQueue = { targets: Account[]; length: number; sender: string }

export const FETCH_QUEUE = 20
/** The send scenario spreads its messages over this many recipients per connection of the largest run. */
const SEND_RECIPIENTS_PER_CONNECTION = 4
/** Email prefix of the send scenario's recipients, whose queues are emptied before each send run. */
export const SEND_POOL = 'send-to'
/** Email prefix of the send-v2-N scenarios' recipients, emptied as SEND_POOL's are. */
export const V2_POOL = 'v2-to'
const PREKEY_BATCH = 1000 // the spec's maxItems for one upload

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64')

/** The client's serialized ciphertext (as in test/helper.ts `ciphertext`) with a ~200-byte body. */
export const ciphertext = (registrationId: number) =>
  JSON.stringify({ type: 3, body: randomBytes(150).toString('base64'), registrationId })

class ApiCallError extends Error {}

/** One API call; throws unless the answer has the expected status. */
export async function call<T = unknown>(
  base: string,
  method: string,
  path: string,
  opts: { body?: unknown; token?: string; expect: number },
): Promise<T> {
  const headers: Record<string, string> = {}
  if (opts.token) headers.authorization = `Bearer ${opts.token}`
  if (opts.body !== undefined) headers['content-type'] = 'application/json'
  const res = await fetch(base + path, {
    method,
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  })
  const text = await res.text()
  if (res.status !== opts.expect)
    throw new ApiCallError(
      `${method} ${path.replace(/\/[^/]*@[^/]*\//, '/<email>/')}: ` +
        `${res.status} (expected ${opts.expect}) ${text.slice(0, 300)}`,
    )
  return (text ? JSON.parse(text) : undefined) as T
}

/** Runs `fn` over `items` with at most `limit` at a time, in order of start. */
export async function pool<T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      results[i] = await fn(items[i], i)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return results
}

const ecKey = () => b64(PrivateKey.generate().getPublicKey().serialize())
const preKeys = (from: number, count: number) =>
  Array.from({ length: count }, (_, i) => ({ keyId: from + i, publicKey: ecKey() }))

/** A POST /device/ body with fresh libsignal keys; the signed prekey is really signed by the identity. */
function deviceBody(registrationId: number, address: string, preKeyCount: number) {
  const identity = PrivateKey.generate()
  const signed = ecKey()
  return {
    address,
    identityKey: b64(identity.getPublicKey().serialize()),
    registrationId,
    preKeys: preKeys(1, preKeyCount),
    signedPreKey: { keyId: 1, publicKey: signed, signature: b64(identity.sign(Buffer.from(signed, 'base64'))) },
  }
}

const run = randomBytes(3).toString('hex')
let nextUser = 0
let nextRegistrationId = 10_000

function newCredentials(prefix: string): Credentials {
  // Random, long and unlike the email: passes the password policy.
  return {
    email: `${prefix}-${++nextUser}.${run}@bench.example.com`,
    password: `Pw-${randomBytes(12).toString('base64url')}`,
  }
}

async function signUp(base: string, creds: Credentials) {
  await call(base, 'POST', '/auth/users/', { body: creds, expect: 201 })
}

async function account(base: string, prefix: string, preKeyCount = 10): Promise<Account> {
  const creds = newCredentials(prefix)
  await signUp(base, creds)
  const { auth_token: token } = await call<{ auth_token: string }>(base, 'POST', '/auth/login/', {
    body: creds,
    expect: 200,
  })
  const registrationId = ++nextRegistrationId
  await call(base, 'POST', '/device/', {
    body: deviceBody(registrationId, `${creds.email}.1`, preKeyCount),
    token,
    expect: 201,
  })
  return { ...creds, token, registrationId }
}

/** A sender whose token is bound to its device 1, as a multi-device client's is. */
async function boundAccount(base: string, prefix: string): Promise<Account> {
  const a = await account(base, prefix)
  const { auth_token: token } = await call<{ auth_token: string }>(base, 'POST', '/auth/login/', {
    body: { email: a.email, password: a.password, deviceId: 1 },
    expect: 200,
  })
  return { ...a, token }
}

/** An account with `n` devices: device 1 from POST /device/, the others from POST /v2/devices/. */
async function multiDeviceAccount(base: string, prefix: string, n: number): Promise<V2Account> {
  const a = await account(base, prefix)
  const devices = [{ deviceId: 1, registrationId: a.registrationId }]
  for (let i = 1; i < n; i++) {
    const registrationId = ++nextRegistrationId
    const added = await call<{ deviceId: number }>(base, 'POST', '/v2/devices/', {
      body: deviceBody(registrationId, `${a.email}.${i + 1}`, 10),
      token: a.token,
      expect: 201,
    })
    devices.push({ deviceId: added.deviceId, registrationId })
  }
  return { email: a.email, devices }
}

async function sendMessage(base: string, from: Account, to: Account) {
  await call(base, 'POST', `/messages/${from.registrationId}/`, {
    body: { recipient: to.email, message: ciphertext(to.registrationId) },
    token: from.token,
    expect: 201,
  })
}

/**
 * Seeds the accounts `scenarios` need, but not the login users, against a server whose bcrypt
 * cost does not matter (the caller runs it cheap: these accounts never log in while measured).
 */
export async function seedAccounts(
  base: string,
  scenarios: readonly Scenario[],
  perPool: number,
  bundlePreKeys: number,
  log: (msg: string) => void,
): Promise<Omit<Seeded, 'loginUsers'>> {
  const wants = (...s: Scenario[]) => s.some((x) => scenarios.includes(x))
  const make = (prefix: string, n: number) => Promise.all(Array.from({ length: n }, () => account(base, prefix)))
  const senders = await make('sender', wants('send', 'fetch', 'fetch-and-ack', 'bundle') ? perPool : 0)
  const sendRecipients = await make(SEND_POOL, wants('send') ? perPool * SEND_RECIPIENTS_PER_CONNECTION : 0)
  const fetchRecipients = await make('fetch', wants('fetch') ? perPool : 0)
  const ackRecipients = await make('ack', wants('fetch-and-ack') ? perPool : 0)
  const bundleRecipients = await make('bundle', wants('bundle') ? perPool : 0)
  const v2 = scenarios.filter(isV2)
  const v2Senders = await Promise.all(Array.from({ length: v2.length ? perPool : 0 }, () => boundAccount(base, 'v2')))
  const v2Recipients: Seeded['v2Recipients'] = {}
  for (const s of v2)
    v2Recipients[s] = await pool(Array.from({ length: perPool * SEND_RECIPIENTS_PER_CONNECTION }), 8, () =>
      multiDeviceAccount(base, `${V2_POOL}-${V2_DEVICES[s]}`, V2_DEVICES[s]),
    )
  const seeded = { senders, sendRecipients, fetchRecipients, ackRecipients, bundleRecipients, v2Senders, v2Recipients }
  const accounts = [senders, sendRecipients, fetchRecipients, ackRecipients, bundleRecipients, v2Senders]
  const v2Count = Object.values(v2Recipients).reduce((n, p) => n + p.length, 0)
  log(`${accounts.reduce((n, p) => n + p.length, v2Count)} accounts with devices`)

  if (fetchRecipients.length) {
    const queued = fetchRecipients.flatMap((r) => Array.from({ length: FETCH_QUEUE }, () => r))
    await pool(queued, 8, (r, i) => sendMessage(base, senders[i % senders.length], r))
    for (const r of fetchRecipients) {
      const q = await call<unknown[]>(base, 'GET', `/messages/${r.registrationId}/`, { token: r.token, expect: 200 })
      if (q.length !== FETCH_QUEUE) throw new Error(`fetch queue holds ${q.length} messages, not ${FETCH_QUEUE}`)
    }
    log(`${queued.length} messages queued for the fetch scenario`)
  }

  if (bundleRecipients.length) {
    // Each bundle recipient already holds 10 from registration; top up to its share in batches.
    const share = Math.max(0, Math.ceil(bundlePreKeys / bundleRecipients.length) - 10)
    const uploads = bundleRecipients.flatMap((r) =>
      Array.from({ length: Math.ceil(share / PREKEY_BATCH) }, (_, b) => ({
        r,
        from: 11 + b * PREKEY_BATCH,
        count: Math.min(PREKEY_BATCH, share - b * PREKEY_BATCH),
      })),
    )
    await pool(uploads, 4, ({ r, from, count }) =>
      call(base, 'POST', `/prekeys/${r.registrationId}/`, { body: preKeys(from, count), token: r.token, expect: 200 }),
    )
    const counts = await Promise.all(
      bundleRecipients.map((r) =>
        call<{ count: number }>(base, 'GET', `/prekeys/${r.registrationId}/`, { token: r.token, expect: 200 }),
      ),
    )
    log(`${counts.reduce((n, c) => n + c.count, 0)} one-time prekeys for the bundle scenario`)
  }
  return seeded
}

/** Signs up the login scenario's accounts; run against a server at the real bcrypt cost. */
export async function seedLoginUsers(base: string, count: number): Promise<Credentials[]> {
  const users = Array.from({ length: count }, () => newCredentials('login'))
  await pool(users, 4, (u) => signUp(base, u))
  return users
}
