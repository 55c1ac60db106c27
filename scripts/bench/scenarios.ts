// What each scenario's connections send. Every connection gets its own accounts (by its index),
// so no two connections share a queue, and answers are checked beyond their status where a 2xx
// alone would hide a broken measurement (an empty queue, a bundle without a one-time prekey).
import type autocannon from 'autocannon'
import { isV2, type RunScenario } from './options.js'
import { ciphertext, FETCH_QUEUE, type Account, type Seeded, type V2Account } from './seed.js'

/** Problems the answers showed (run fails when any), and what the scenario counts besides requests. */
export type Checks = { failures: Record<string, number>; acked: number }

export const newChecks = (): Checks => ({ failures: {}, acked: 0 })
const fail = (checks: Checks, why: string) => (checks.failures[why] = (checks.failures[why] ?? 0) + 1)

const json = (token?: string): Record<string, string> => ({
  'content-type': 'application/json',
  ...(token && { authorization: `Bearer ${token}` }),
})
const auth = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` })

function pick<T>(pool: T[], i: number, what: string): T {
  const item = pool[i]
  if (!item)
    throw new Error(`no seeded ${what} for connection ${i}: seed at least as many as the largest connection count`)
  return item
}

function parse(body: string): unknown {
  try {
    return JSON.parse(body)
  } catch {
    return undefined
  }
}

const sendRequest = (from: Account, to: Account): autocannon.Request => ({
  method: 'POST',
  path: `/messages/${from.registrationId}/`,
  headers: json(from.token),
  body: JSON.stringify({ recipient: to.email, message: ciphertext(to.registrationId) }),
})

/** PUT /v2/messages/: one ciphertext (~200 bytes, as in send) for each of the recipient's devices. */
const sendV2Request = (from: Account, to: V2Account): autocannon.Request => ({
  method: 'PUT',
  path: `/v2/messages/${encodeURIComponent(to.email)}/`,
  headers: json(from.token),
  body: JSON.stringify({
    messages: to.devices.map((d) => ({ ...d, content: ciphertext(d.registrationId) })),
    timestamp: Date.now(),
  }),
})

/** The request sequence connection `i` loops over. */
function requestsFor(
  scenario: RunScenario,
  seeded: Seeded,
  i: number,
  checks: Checks,
  nextRecipient: () => number,
): autocannon.Request[] {
  if (isV2(scenario)) {
    // As send: round all recipients, so that no queue grows long.
    const sender = pick(seeded.v2Senders, i, 'bound sender')
    const recipients = seeded.v2Recipients[scenario]
    if (!recipients?.length) throw new Error(`${scenario} needs seeded multi-device recipients`)
    const requests = recipients.map((r) => sendV2Request(sender, r))
    const devices = recipients[0].devices.length
    return [
      {
        ...requests[0],
        setupRequest: (request) => {
          const { path, headers, body } = requests[nextRecipient() % requests.length]
          return { ...request, path, headers, body }
        },
        onResponse: (status, body) => {
          const answer = parse(body) as { messages?: unknown[] } | undefined
          if (status === 200 && answer?.messages?.length !== devices)
            fail(checks, `${scenario}: the answer does not list ${devices} queued messages`)
        },
      },
    ]
  }
  switch (scenario) {
    case 'ceiling':
      return [{ method: 'GET', path: '/' }]
    case 'send': {
      // Round all recipients, so that no queue grows long: the insert counts the recipient's
      // queue (up to MAX_QUEUED_MESSAGES), and a run should not measure a queue it filled itself.
      const sender = pick(seeded.senders, i, 'sender')
      const requests = seeded.sendRecipients.map((r) => sendRequest(sender, r))
      return [
        {
          ...requests[0],
          setupRequest: (request) => {
            const { path, headers, body } = requests[nextRecipient() % requests.length]
            return { ...request, path, headers, body }
          },
        },
      ]
    }
    case 'fetch': {
      const me = pick(seeded.fetchRecipients, i, 'fetch recipient')
      return [
        {
          method: 'GET',
          path: `/messages/${me.registrationId}/`,
          headers: auth(me.token),
          onResponse: (status, body) => {
            const list = parse(body)
            if (status === 200 && (!Array.isArray(list) || list.length !== FETCH_QUEUE))
              fail(checks, `fetch: queue did not hold exactly ${FETCH_QUEUE} messages`)
          },
        },
      ]
    }
    case 'send-long': {
      // Round all long-queue devices, as send goes round its recipients; their queues are taken
      // back to the loaded length before each server starts, so every run finds them as loaded.
      const sender = pick(seeded.senders, i, 'sender')
      const requests = longQueueOf(seeded).targets.map((r) => sendRequest(sender, r))
      return [
        {
          ...requests[0],
          setupRequest: (request) => {
            const { path, headers, body } = requests[nextRecipient() % requests.length]
            return { ...request, path, headers, body }
          },
        },
      ]
    }
    case 'fetch-long': {
      // GET /messages/ answers the whole queue: every request reads all `length` messages.
      const { targets, length, sender } = longQueueOf(seeded)
      const me = pick(targets, i, 'long-queue device')
      return [
        {
          method: 'GET',
          path: `/messages/${me.registrationId}/`,
          headers: auth(me.token),
          onResponse: (status, body) => {
            if (status !== 200) return
            const list = parse(body)
            const loaded = (m: { senderAddress?: unknown }) => m.senderAddress === sender
            if (!Array.isArray(list) || list.length !== length || !list.every(loaded))
              fail(checks, `fetch-long: queue did not hold exactly the ${length} bulk-loaded messages`)
          },
        },
      ]
    }
    case 'fetch-and-ack': {
      // One client's loop: a message arrives, the client fetches its queue and acknowledges all of it.
      const sender = pick(seeded.senders, i, 'sender')
      const me = pick(seeded.ackRecipients, i, 'ack recipient')
      const path = `/messages/${me.registrationId}/`
      return [
        sendRequest(sender, me),
        {
          method: 'GET',
          path,
          headers: auth(me.token),
          onResponse: (status, body, context) => {
            const list = parse(body)
            if (status !== 200) return
            if (!Array.isArray(list) || list.length === 0) fail(checks, 'fetch-and-ack: fetched an empty queue')
            else context.ids = list.map((m: { id: number }) => m.id)
          },
        },
        {
          method: 'DELETE',
          path,
          headers: json(me.token),
          setupRequest: (request, context) => {
            const ids = context.ids as number[] | undefined
            // No ids (the fetch failed, already counted): autocannon restarts the loop, counted as a reset.
            return ids?.length ? { ...request, body: JSON.stringify(ids) } : null
          },
          onResponse: (status, body) => {
            if (status !== 200) return
            const answers = parse(body)
            if (!Array.isArray(answers)) return void fail(checks, 'fetch-and-ack: delete answer is not a list')
            for (const a of answers) {
              if (a === 'message_deleted') checks.acked++
              else fail(checks, 'fetch-and-ack: a fetched message was not there to delete')
            }
          },
        },
      ]
    }
    case 'bundle': {
      const me = pick(seeded.senders, i, 'bundle claimer')
      const recipients = seeded.bundleRecipients
      return [
        {
          method: 'GET',
          path: '/',
          headers: auth(me.token),
          // Claims go round all recipients, so the seeded prekeys drain evenly.
          setupRequest: (request) => {
            const r = recipients[nextRecipient() % recipients.length]
            return { ...request, path: `/prekeybundle/${encodeURIComponent(r.email)}/${me.registrationId}/` }
          },
          onResponse: (status, body) => {
            if (status === 200 && !body.includes('"preKey":'))
              fail(checks, 'bundle: no one-time prekey left (seed more with --bundle-prekeys)')
          },
        },
      ]
    }
    case 'login': {
      const me = pick(seeded.loginUsers, i, 'login user')
      return [
        {
          method: 'POST',
          path: '/auth/login/',
          headers: json(),
          body: JSON.stringify(me),
          onResponse: (status, body) => {
            if (status === 200 && !body.includes('"auth_token":')) fail(checks, 'login: answer carries no auth_token')
          },
        },
      ]
    }
  }
}

function longQueueOf(seeded: Seeded) {
  if (!seeded.longQueue) throw new Error('send-long and fetch-long need the long-queue devices of the scale check')
  return seeded.longQueue
}

/** autocannon options for one run of a scenario: each new connection takes the next index. */
export function plan(
  scenario: RunScenario,
  seeded: Seeded | undefined,
  checks: Checks,
): Pick<autocannon.Options, 'requests' | 'setupClient'> {
  let nextConnection = 0
  let recipientCounter = 0
  const nextRecipient = () => recipientCounter++
  const requestsOf = (i: number) => {
    if (scenario !== 'ceiling' && !seeded) throw new Error(`${scenario} needs seeded accounts`)
    return requestsFor(scenario, seeded as Seeded, i, checks, nextRecipient)
  }
  return {
    // Placeholder for autocannon's validation; every client replaces it with its own in setupClient.
    requests: [{ method: 'GET', path: '/health/live' }],
    setupClient: (client) => client.setRequests(requestsOf(nextConnection++)),
  }
}
