import QRCode from 'qrcode'
import { ApiError } from '../lib/api-error.js'
import type { Handlers } from '../lib/handlers.js'
import { normalizeCode } from '../plugins/mfa.js'
import type { MethodName, MfaMethodRow } from '../db/mfa.js'
import type { FastifyRequest } from 'fastify'

const invalidCode = () => new ApiError(400, 'invalid_code', 'The code is invalid or has expired.')

async function activeMethod(request: FastifyRequest, name: MethodName): Promise<MfaMethodRow> {
  const method = await request.server.db.mfa.find(request.user.id, name)
  if (!method?.is_active) throw new ApiError(400, 'method_not_active', `The ${name} method is not active.`)
  return method
}

/** Checks a code, limited per account: a locked account's right code is refused like a wrong one. */
async function requireCode(request: FastifyRequest, method: MfaMethodRow, code: string | number): Promise<void> {
  const { lockout, mfa } = request.server
  if (!(await lockout.guard('mfa', request.user.id, () => mfa.consumeCode(method, normalizeCode(code)))))
    throw invalidCode()
}

async function emailOf(request: FastifyRequest): Promise<string> {
  const user = await request.server.db.users.findById(request.user.id)
  return user!.email
}

export const mfa = {
  async activateMfa(request) {
    const { db, mfa } = request.server
    const name = request.params.method
    const existing = await db.mfa.find(request.user.id, name)
    if (existing?.is_active) throw new ApiError(400, 'method_already_active', `The ${name} method is already active.`)
    const secret = mfa.newSecret()
    await db.mfa.upsertPending(request.user.id, name, secret)
    const email = await emailOf(request)
    if (name === 'app') {
      const qr_link = mfa.otpauthUri(secret, email)
      return { status: 200, body: { qr_link, qr_code: await QRCode.toDataURL(qr_link) } }
    }
    await mfa.sendEmailCode((await db.mfa.find(request.user.id, name))!, email)
    return { status: 200, body: { code: 'code_sent', message: 'A code was sent to your email address.' } }
  },

  async confirmMfa(request) {
    const { db, mfa } = request.server
    const name = request.params.method
    const method = await db.mfa.find(request.user.id, name)
    // The spec's CodeRejected lists method_not_active for this: the method is not (yet) active.
    if (!method) throw new ApiError(400, 'method_not_active', `The ${name} method is not active; activate it first.`)
    if (method.is_active) throw new ApiError(400, 'method_already_active', `The ${name} method is already active.`)
    await requireCode(request, method, request.body.code)
    const { codes, hashes } = mfa.newBackupCodes()
    await db.knex.transaction(async (trx) => {
      const others = await db.mfa.active(request.user.id, trx)
      await db.mfa.update(method.id, { is_active: true, is_primary: others.length === 0 }, trx)
      await db.mfa.replaceBackupCodes(method.id, hashes, trx)
    })
    return { status: 200, body: { backup_codes: codes } }
  },

  async deactivateMfa(request) {
    const { db } = request.server
    const method = await activeMethod(request, request.params.method)
    await requireCode(request, method, request.body.code)
    await db.knex.transaction(async (trx) => {
      await db.mfa.delete(method.id, trx)
      const [next] = await db.mfa.active(request.user.id, trx)
      if (method.is_primary && next) await db.mfa.update(next.id, { is_primary: true }, trx)
    })
    return { status: 204 }
  },

  async regenerateBackupCodes(request) {
    const { db, mfa } = request.server
    const method = await activeMethod(request, request.params.method)
    await requireCode(request, method, request.body.code)
    const { codes, hashes } = mfa.newBackupCodes()
    await db.mfa.replaceBackupCodes(method.id, hashes)
    return { status: 200, body: { backup_codes: codes } }
  },

  async requestMfaCode(request) {
    const { db, mfa } = request.server
    const name = request.body.method
    const method = await db.mfa.find(request.user.id, name)
    if (!method) throw new ApiError(400, 'method_not_active', `The ${name} method is not active.`)
    if (name === 'app')
      return { status: 200, body: { code: 'code_not_required', message: 'Use the code your authenticator app shows.' } }
    await mfa.sendEmailCode(method, await emailOf(request))
    return { status: 200, body: { code: 'code_sent', message: 'A code was sent to your email address.' } }
  },

  async getMfaConfig(request) {
    const { config, mfa } = request.server
    return {
      status: 200,
      body: {
        methods: ['email', 'app'],
        application_issuer_name: config.applicationName,
        backup_codes_count: mfa.backupCodesCount,
        allow_backup_codes_regeneration: true,
        email_code_validity_seconds: config.emailCodeTtl,
        totp: { digits: mfa.totp.digits, period: mfa.totp.period, algorithm: mfa.totp.algorithm.toUpperCase() },
      },
    }
  },

  async getActiveMfaMethods(request) {
    const methods = await request.server.db.mfa.active(request.user.id)
    return { status: 200, body: methods.map((m) => ({ name: m.name, is_primary: m.is_primary })) }
  },

  async changePrimaryMfaMethod(request) {
    const { db } = request.server
    const target = await activeMethod(request, request.body.method)
    const primary = (await db.mfa.active(request.user.id)).find((m) => m.is_primary) ?? target
    await requireCode(request, primary, request.body.code)
    if (primary.id !== target.id) {
      await db.knex.transaction(async (trx) => {
        await db.mfa.update(primary.id, { is_primary: false }, trx)
        await db.mfa.update(target.id, { is_primary: true }, trx)
      })
    }
    return { status: 204 }
  },
} satisfies Partial<Handlers>
