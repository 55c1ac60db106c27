// Seeds the accounts the scenarios use, through the HTTP API as clients would make them: sign-up,
// login, device registration with real libsignal keys (the server verifies the signatures),
// prekey uploads and queued messages.
import { randomBytes } from 'node:crypto'
import { PrivateKey } from '@signalapp/libsignal-client'
import type { Scenario } from './options.js'

export type Account = { email: string; password: string; token: string; registrationId: number }
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
  const seeded = { senders, sendRecipients, fetchRecipients, ackRecipients, bundleRecipients }
  log(`${Object.values(seeded).reduce((n, p) => n + p.length, 0)} accounts with devices`)

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
