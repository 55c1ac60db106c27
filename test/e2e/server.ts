import { build, PASSWORD, uniqueEmail } from '../helper.js'
import { createSignalServerClient, type SignalServerClient } from '../../sdk/index.js'
import { checkAgainstSpec } from '../spec-check.js'
import type { Config } from '../../lib/config.js'

type T = Parameters<typeof build>[0]

/**
 * The real server on a real port, for clients that speak HTTP through the generated SDK. Every
 * answer is still checked against openapi.yaml, through an SDK middleware.
 */
export async function startServer(t: T, overrides: Partial<Config> = {}) {
  const { app } = await build(t, overrides)
  const address = await app.listen({ host: '127.0.0.1', port: 0 })
  const sdk = (token?: string): SignalServerClient => {
    const client = createSignalServerClient({ baseUrl: address, token })
    client.use({
      async onResponse({ request, response }) {
        const contentType = response.headers.get('content-type') ?? ''
        const text = await response.clone().text()
        const body = contentType.startsWith('application/json') ? JSON.parse(text) : text || undefined
        const path = new URL(request.url).pathname
        for (const p of checkAgainstSpec(request.method, path, { status: response.status, contentType, body }))
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
