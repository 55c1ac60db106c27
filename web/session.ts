// The account side: the API client, sign-up, login (with the 2FA step), registering this browser as
// a device of the account, and logging out. The token is kept in IndexedDB beside the keys, so a
// reload stays logged in.
import { createSignalServerClient, type SignalServerClient } from '../sdk/index.js'
import * as db from './db.js'
import { createDeviceKeys, type OwnDevice } from './keys.js'

/** A client of the server that served this page, with no token yet. */
const client = (token?: string): SignalServerClient => createSignalServerClient({ baseUrl: location.origin, token })

/** A refusal by the server, with its error code (openapi.yaml's ErrorCode) and message. */
export class ServerError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
    this.name = 'ServerError'
  }
}

type Answer = { response: Response; error?: unknown }
/** Throws the server's refusal, if it was one. */
function check(res: Answer) {
  if (res.response.ok) return
  const error = (res.error ?? {}) as { code?: string; message?: string }
  throw new ServerError(res.response.status, error.code ?? 'error', error.message ?? res.response.statusText)
}

/** Logged in: the device this browser is, and a token bound to it. */
export type Session = { device: OwnDevice; token: string; api: SignalServerClient }

/** The session kept from an earlier visit, if any. */
export async function restore(): Promise<Session | undefined> {
  const device = await db.get<OwnDevice>('state', 'device')
  const token = await db.get<string>('state', 'token')
  return device && token ? { device, token, api: client(token) } : undefined
}

/** The second login step, when the account has 2FA: the code goes with this. */
export type CodeNeeded = { email: string; ephemeralToken: string; method: string }

export async function signUp(email: string, password: string): Promise<Session | CodeNeeded> {
  check(await client().POST('/auth/users/', { body: { email, password } }))
  return logIn(email, password)
}

/**
 * Logs in. A browser that is already a device of this account logs in bound to it (`deviceId`);
 * any other registers itself as a new device of the account first.
 */
export async function logIn(email: string, password: string): Promise<Session | CodeNeeded> {
  const known = await knownDevice(email)
  const res = await client().POST('/auth/login/', { body: { email, password, deviceId: known?.deviceId } })
  if (res.response.status === 404 && known) {
    // This browser's device was removed from the account meanwhile: start again as a new one.
    await db.wipe()
    return logIn(email, password)
  }
  check(res)
  const data = res.data!
  if ('ephemeral_token' in data) return { email, ephemeralToken: data.ephemeral_token, method: data.method }
  return finishLogin(email, data.auth_token, known)
}

export async function logInWithCode(step: CodeNeeded, code: string): Promise<Session> {
  const known = await knownDevice(step.email)
  const res = await client().POST('/auth/login/code/', {
    body: { ephemeral_token: step.ephemeralToken, code, deviceId: known?.deviceId },
  })
  check(res)
  return finishLogin(step.email, res.data!.auth_token, known)
}

/** Asks for a reset link by email; the server answers the same whether or not the account exists. */
export async function requestPasswordReset(email: string): Promise<void> {
  check(await client().POST('/auth/password/reset/', { body: { email } }))
}

/**
 * Logging out unlinks this browser: the device is removed from the account (a token bound to it
 * may do that without the password), which also ends the token, and everything kept here is deleted.
 * Logging in again makes it a new device.
 */
export async function logOut(session: Session): Promise<void> {
  const { deviceId } = session.device
  const res = await session.api.DELETE('/v2/devices/{deviceId}/', { params: { path: { deviceId } } })
  // 401: the token had ended already; the local data goes all the same.
  if (res.response.status !== 401) check(res)
  await db.wipe()
}

async function knownDevice(email: string) {
  const device = await db.get<OwnDevice>('state', 'device')
  if (device && device.email !== email) await db.wipe() // another account's leftovers
  return device?.email === email ? device : undefined
}

async function finishLogin(email: string, token: string, known: OwnDevice | undefined): Promise<Session> {
  if (known) {
    await db.put('state', 'token', token)
    return { device: known, token, api: client(token) }
  }
  return registerDevice(email, token)
}

/**
 * Makes this browser a device of the account: fresh keys, `POST /v2/devices/` with the browser's
 * name, and from then on the token bound to the new device. The login's unbound token is ended.
 */
async function registerDevice(email: string, loginToken: string): Promise<Session> {
  const unbound = client(loginToken)
  for (;;) {
    const { device, keys } = await createDeviceKeys(email)
    // `address` is opaque to the server; this client names devices by the deviceId the server gives.
    const res = await unbound.POST('/v2/devices/', { body: { address: email, name: browserName(), ...keys } })
    if (res.response.status === 409) continue // registration_id_in_use: another device drew the same; draw again
    check(res)
    device.deviceId = res.data!.deviceId
    await db.put('state', 'device', device)
    await db.put('state', 'token', res.data!.auth_token)
    await unbound.POST('/auth/logout/')
    return { device, token: res.data!.auth_token, api: client(res.data!.auth_token) }
  }
}

/** "Firefox on Linux", "Chrome on macOS": what the account's device list shows for this browser. */
function browserName(agent = navigator.userAgent): string {
  const browser =
    [
      ['Edge', /Edg\//],
      ['Firefox', /Firefox\//],
      ['Chromium', /Chromium\//],
      ['Chrome', /Chrome\//],
      ['Safari', /Safari\//],
    ].find(([, pattern]) => (pattern as RegExp).test(agent))?.[0] ?? 'Browser'
  const system =
    [
      ['Android', /Android/],
      ['iOS', /iPhone|iPad/],
      ['Windows', /Windows/],
      ['macOS', /Mac OS X/],
      ['Linux', /Linux|X11/],
    ].find(([, pattern]) => (pattern as RegExp).test(agent))?.[0] ?? 'an unknown system'
  return `${browser} on ${system}`
}
