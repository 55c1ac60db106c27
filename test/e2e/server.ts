import { build, PASSWORD, uniqueEmail } from '../helper.js'
import { createSignalServerClient, type SignalServerClient } from '../../sdk/index.js'
import { checkAgainstSpec } from '../spec-check.js'
import { declareSource, recordRequestSecrets, recordSecrets } from '../log-capture.js'
import type { Config } from '../../lib/config.js'

type T = Parameters<typeof build>[0]

/** A body as the server reads it: JSON, a form, or else the text. */
function parsed(contentType: string, text: string): unknown {
  if (contentType.startsWith('application/json')) return JSON.parse(text)
  if (contentType.startsWith('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(text))
  return text || undefined
}

/**
 * The real server on a real port, for clients that speak HTTP through the generated SDK. Every
 * answer is still checked against openapi.yaml, and every secret sent or answered is recorded for
 * the log audit, through SDK middleware.
 */
export async function startServer(t: T, overrides: Partial<Config> = {}) {
  const { app } = await build(t, overrides)
  const address = await app.listen({ host: '127.0.0.1', port: 0 })
  declareSource('sdk')
  const sdk = (token?: string): SignalServerClient => {
    const client = createSignalServerClient({ baseUrl: address, token })
    client.use({
      async onRequest({ request }) {
        const path = new URL(request.url).pathname
        recordRequestSecrets(path, Object.fromEntries(request.headers), 'sdk')
        const text = await request.clone().text()
        if (text) recordSecrets(parsed(request.headers.get('content-type') ?? '', text), false, 'sdk')
        return request
      },
      async onResponse({ request, response }) {
        const contentType = response.headers.get('content-type') ?? ''
        const body = parsed(contentType, await response.clone().text())
        recordSecrets(body, true, 'sdk')
        const path = new URL(request.url).pathname
        for (const p of checkAgainstSpec(request.method, path, {
          status: response.status,
          contentType,
          body,
          headers: response.headers,
        }))
          t.fail(`contract: ${p}`)
      },
    })
    return client
  }
  return { app, address, sdk }
}

/** Signs up and logs in through the SDK; returns a client carrying the token. */
export async function account(sdk: (token?: string) => SignalServerClient, name: string) {
  const email = uniqueEmail(name)
  const anon = sdk()
  const created = await anon.POST('/auth/users/', { body: { email, password: PASSWORD } })
  if (created.response.status !== 201) throw new Error(`sign-up failed: ${created.response.status}`)
  const login = await anon.POST('/auth/login/', { body: { email, password: PASSWORD } })
  if (!login.data || !('auth_token' in login.data)) throw new Error(`login failed: ${login.response.status}`)
  return { email, api: sdk(login.data.auth_token) }
}
