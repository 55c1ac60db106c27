import type { FastifyInstance } from 'fastify'
import { operations } from '../../lib/spec.js'
import { encodeUid, makeAccountToken, makeResetToken } from '../../lib/reset-tokens.js'
import {
  ciphertext,
  deviceBody,
  kyberPreKey,
  PASSWORD,
  preKeys,
  signedPreKey,
  signUp,
  userWithDevice,
  type Api,
  type ApiResponse,
} from '../helper.js'

// The requests of the database-unavailable tests (unavailable-postgres.test.ts, unavailable-sqlite.test.ts):
// one well-formed request per operation, from an account with a device, so that each reaches the database.

const NEW_PASSWORD = 'staple-lantern-orbit-42'
type Call = { method: string; url: string; body?: unknown; form?: Record<string, string>; token?: string }

export async function world(api: Api, app: FastifyInstance) {
  const alice = await userWithDevice(api)
  const bob = await userWithDevice(api)
  const carol = await signUp(api) // no device: createDevice reaches its insert
  const secret = app.config.secretKey
  const row = (await app.db.users.findById(alice.id))!
  const uid = encodeUid(alice.id)
  const activation = makeAccountToken(secret, 'activation', row)
  const reset = makeResetToken(secret, row)
  const identity = alice.device.identityKey
  const reg = alice.registrationId
  const newDevice = deviceBody(reg + 500, `${alice.email}.2`, 2)
  const calls: Record<string, Call> = {
    listUsers: { method: 'GET', url: '/auth/users/' },
    createUser: { method: 'POST', url: '/auth/users/', body: { email: 'new@example.com', password: NEW_PASSWORD } },
    getMe: { method: 'GET', url: '/auth/users/me/' },
    updateMe: { method: 'PUT', url: '/auth/users/me/', body: { email: alice.email } },
    deleteMe: { method: 'DELETE', url: '/auth/users/me/', body: { currentPassword: PASSWORD } },
    patchMe: { method: 'PATCH', url: '/auth/users/me/', body: { email: alice.email } },
    setPassword: {
      method: 'POST',
      url: '/auth/users/set_password/',
      body: { current_password: PASSWORD, new_password: NEW_PASSWORD },
    },
    changeEmail: {
      method: 'POST',
      url: '/auth/users/change_username/',
      body: { new_email: 'moved@example.com', current_password: PASSWORD },
    },
    activateAccount: { method: 'POST', url: '/auth/users/confirm/', body: { uid, token: activation } },
    activateAccountLegacy: { method: 'POST', url: '/auth/users/activate/', body: { uid, token: activation } },
    resendActivation: { method: 'POST', url: '/auth/users/resend/', body: { email: alice.email } },
    createUserLegacy: {
      method: 'POST',
      url: '/auth/users/create/',
      body: { email: 'new2@example.com', password: NEW_PASSWORD },
    },
    deleteMeLegacy: { method: 'POST', url: '/auth/users/delete/', body: { currentPassword: PASSWORD } },
    getUser: { method: 'GET', url: `/auth/users/${alice.id}/` },
    updateUser: { method: 'PUT', url: `/auth/users/${alice.id}/`, body: { email: alice.email } },
    deleteUser: { method: 'DELETE', url: `/auth/users/${alice.id}/`, body: { currentPassword: PASSWORD } },
    patchUser: { method: 'PATCH', url: `/auth/users/${alice.id}/`, body: { email: alice.email } },
    getMeLegacy: { method: 'GET', url: '/auth/me/' },
    updateMeLegacy: { method: 'PUT', url: '/auth/me/', body: { email: alice.email } },
    changeEmailLegacy: {
      method: 'POST',
      url: '/auth/email/',
      body: { new_email: 'moved@example.com', current_password: PASSWORD },
    },
    setPasswordLegacy: {
      method: 'POST',
      url: '/auth/password/',
      body: { current_password: PASSWORD, new_password: NEW_PASSWORD },
    },
    login: { method: 'POST', url: '/auth/login/', body: { email: alice.email, password: PASSWORD } },
    loginCode: {
      method: 'POST',
      url: '/auth/login/code/',
      body: { ephemeral_token: app.auth.issueEphemeralToken(alice.id), code: '123456' },
    },
    logout: { method: 'POST', url: '/auth/logout/' },
    resetPassword: { method: 'POST', url: '/auth/password/reset/', body: { email: alice.email } },
    resetPasswordConfirm: {
      method: 'POST',
      url: '/auth/password/reset/confirm/',
      body: { uid, token: reset, new_password: NEW_PASSWORD },
    },
    resetPasswordPage: { method: 'GET', url: `/auth/password/reset/confirm/${uid}/${reset}/` },
    resetPasswordPageSubmit: {
      method: 'POST',
      url: `/auth/password/reset/confirm/${uid}/${reset}/`,
      form: { new_password: NEW_PASSWORD, re_new_password: NEW_PASSWORD },
    },
    activationPage: { method: 'GET', url: `/auth/activate/${uid}/${activation}/` },
    activationPageSubmit: { method: 'POST', url: `/auth/activate/${uid}/${activation}/`, form: { confirm: '1' } },
    activateMfa: { method: 'POST', url: '/auth/app/activate/' },
    confirmMfa: { method: 'POST', url: '/auth/app/activate/confirm/', body: { code: '123456' } },
    deactivateMfa: { method: 'POST', url: '/auth/app/deactivate/', body: { code: '123456' } },
    regenerateBackupCodes: { method: 'POST', url: '/auth/app/codes/regenerate/', body: { code: '123456' } },
    requestMfaCode: { method: 'POST', url: '/auth/code/request/', body: { method: 'email' } },
    getMfaConfig: { method: 'GET', url: '/auth/mfa/config/' },
    getActiveMfaMethods: { method: 'GET', url: '/auth/mfa/user-active-methods/' },
    changePrimaryMfaMethod: {
      method: 'POST',
      url: '/auth/mfa/change-primary-method/',
      body: { method: 'app', code: '123456' },
    },
    createDevice: {
      method: 'POST',
      url: '/device/',
      body: deviceBody(reg + 400, `${carol.email}.1`, 2),
      token: carol.token,
    },
    deleteDevice: { method: 'DELETE', url: '/device/' },
    getPreKeyCount: { method: 'GET', url: `/prekeys/${reg}/` },
    uploadPreKeys: { method: 'POST', url: `/prekeys/${reg}/`, body: preKeys(500, 2) },
    replaceSignedPreKey: { method: 'POST', url: `/signedprekey/${reg}/`, body: signedPreKey(7, identity) },
    uploadPqPreKeys: {
      method: 'POST',
      url: `/pqprekeys/${reg}/`,
      body: { pqPreKeys: [kyberPreKey(900, identity)], pqLastResortPreKey: kyberPreKey(901, identity) },
    },
    checkKeys: { method: 'POST', url: `/keys/check/${reg}/`, body: { digest: Buffer.alloc(32).toString('base64') } },
    getPreKeyBundle: { method: 'GET', url: `/prekeybundle/${bob.email}/${reg}/` },
    getMessages: { method: 'GET', url: `/messages/${reg}/` },
    sendMessage: {
      method: 'POST',
      url: `/messages/${reg}/`,
      body: { recipient: bob.email, message: ciphertext(bob.registrationId) },
    },
    deleteMessages: { method: 'DELETE', url: `/messages/${reg}/`, body: [1, 2] },
    openMessageSocket: { method: 'GET', url: `/messages/${reg}/websocket/` },
    listDevices: { method: 'GET', url: '/v2/devices/' },
    addDevice: { method: 'POST', url: '/v2/devices/', body: { ...newDevice, name: 'Laptop' } },
    removeDevice: { method: 'DELETE', url: '/v2/devices/1/', body: { currentPassword: PASSWORD } },
    getDeviceKeys: { method: 'GET', url: `/v2/keys/${bob.email}/*/` },
    sendMessages: {
      method: 'PUT',
      url: `/v2/messages/${bob.email}/`,
      body: {
        messages: [{ deviceId: 1, registrationId: bob.registrationId, content: ciphertext(bob.registrationId) }],
        timestamp: 1_764_928_800_000,
      },
    },
    openProvisioningSocket: { method: 'GET', url: '/v2/provisioning/websocket/' },
    sendProvisioningMessage: {
      method: 'PUT',
      url: '/v2/provisioning/closed/',
      body: { body: Buffer.from('sealed').toString('base64') },
    },
  }
  return { alice, calls }
}

/** Asks every operation (but the probes) once; the answers by operationId. */
export async function askAll(api: Api, token: string, calls: Record<string, Call>, verifying: Api) {
  const answers = new Map<string, ApiResponse>()
  for (const op of operations.values()) {
    if (op.operationId === 'getLiveness' || op.operationId === 'getReadiness') continue
    const call = calls[op.operationId]
    if (!call) throw new Error(`no request for ${op.operationId}: add one`)
    // Resending an activation link reads the account only when EMAIL_VERIFICATION is on.
    const through = op.operationId === 'resendActivation' ? verifying : api
    answers.set(
      op.operationId,
      await through.request(call.method, call.url, call.body, { token: call.token ?? token, form: call.form }),
    )
  }
  return answers
}

export const summary = (answers: Map<string, ApiResponse>) =>
  [...answers].map(([id, a]) => `${id} ${a.status}${a.body?.code ? ` ${a.body.code}` : ''}`)
