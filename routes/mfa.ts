import QRCode from 'qrcode'
import { errors } from '../lib/errors.js'
import type { Handlers } from '../lib/handlers.js'
import { normalizeCode } from '../lib/mfa-codes.js'
import type { MethodName, MfaMethodRow } from '../db/mfa.js'
import type { FastifyRequest } from 'fastify'

async function activeMethod(request: FastifyRequest, name: MethodName): Promise<MfaMethodRow> {
  const method = await request.server.db.mfa.find(request.caller.userId, name)
  if (!method?.is_active) throw errors.methodNotActive(name)
  return method
}

/** Checks a code, limited per account: a locked account's right code is refused like a wrong one. */
async function requireCode(request: FastifyRequest, method: MfaMethodRow, code: string | number): Promise<void> {
  const { lockout, mfa: twoFactor } = request.server
  if (!(await lockout.guard('mfa', request.caller.userId, () => twoFactor.consumeCode(method, normalizeCode(code)))))
    throw errors.invalidCode()
}

async function emailOf(request: FastifyRequest): Promise<string> {
  const user = await request.server.db.users.findById(request.caller.userId)
  return user!.email
}

export const mfa = {
  async activateMfa(request) {
    const { db, mfa: twoFactor } = request.server
    const name = request.params.method
    const existing = await db.mfa.find(request.caller.userId, name)
    if (existing?.is_active) throw errors.methodAlreadyActive(name)
    const secret = twoFactor.newSecret()
    await db.mfa.upsertPending(request.caller.userId, name, secret)
    const email = await emailOf(request)
    if (name === 'app') {
      const qr_link = twoFactor.otpauthUri(secret, email)
      return { status: 200, body: { qr_link, qr_code: await QRCode.toDataURL(qr_link) } }
    }
    await twoFactor.sendEmailCode((await db.mfa.find(request.caller.userId, name))!, email)
    return { status: 200, body: { code: 'code_sent', message: 'A code was sent to your email address.' } }
  },

  async confirmMfa(request) {
    const { db, mfa: twoFactor } = request.server
    const name = request.params.method
    const method = await db.mfa.find(request.caller.userId, name)
    // The spec's CodeRejected lists method_not_active for this: the method is not (yet) active.
    if (!method) throw errors.methodNotActive(name, '; activate it first')
    if (method.is_active) throw errors.methodAlreadyActive(name)
    await requireCode(request, method, request.body.code)
    const { codes, hashes } = twoFactor.newBackupCodes()
    await db.transaction(async (tx) => {
      const others = await tx.mfa.active(request.caller.userId)
      await tx.mfa.update(method.id, { is_active: true, is_primary: others.length === 0 })
      await tx.mfa.replaceBackupCodes(method.id, hashes)
    })
    return { status: 200, body: { backup_codes: codes } }
  },

  async deactivateMfa(request) {
    const { db } = request.server
    const method = await activeMethod(request, request.params.method)
    await requireCode(request, method, request.body.code)
    await db.transaction(async (tx) => {
      await tx.mfa.delete(method.id)
      const [next] = await tx.mfa.active(request.caller.userId)
      if (method.is_primary && next) await tx.mfa.update(next.id, { is_primary: true })
    })
    return { status: 204 }
  },

  async regenerateBackupCodes(request) {
    const { db, mfa: twoFactor } = request.server
    const method = await activeMethod(request, request.params.method)
    await requireCode(request, method, request.body.code)
    const { codes, hashes } = twoFactor.newBackupCodes()
    await db.mfa.replaceBackupCodes(method.id, hashes)
    return { status: 200, body: { backup_codes: codes } }
  },

  async requestMfaCode(request) {
    const { db, mfa: twoFactor } = request.server
    const name = request.body.method
    const method = await db.mfa.find(request.caller.userId, name)
    if (!method) throw errors.methodNotActive(name)
    if (name === 'app')
      return { status: 200, body: { code: 'code_not_required', message: 'Use the code your authenticator app shows.' } }
    await twoFactor.sendEmailCode(method, await emailOf(request))
    return { status: 200, body: { code: 'code_sent', message: 'A code was sent to your email address.' } }
  },

  async getMfaConfig(request) {
    const { config, mfa: twoFactor } = request.server
    return {
      status: 200,
      body: {
        methods: ['email', 'app'],
        application_issuer_name: config.applicationName,
        backup_codes_count: twoFactor.backupCodesCount,
        allow_backup_codes_regeneration: true,
        email_code_validity_seconds: config.emailCodeTtl,
        totp: {
          digits: twoFactor.totp.digits,
          period: twoFactor.totp.period,
          algorithm: twoFactor.totp.algorithm.toUpperCase(),
        },
      },
    }
  },

  async getActiveMfaMethods(request) {
    const methods = await request.server.db.mfa.active(request.caller.userId)
    return { status: 200, body: methods.map((m) => ({ name: m.name, is_primary: m.is_primary })) }
  },

  async changePrimaryMfaMethod(request) {
    const { db } = request.server
    const target = await activeMethod(request, request.body.method)
    const primary = (await db.mfa.active(request.caller.userId)).find((m) => m.is_primary) ?? target
    await requireCode(request, primary, request.body.code)
    if (primary.id !== target.id) {
      await db.transaction(async (tx) => {
        await tx.mfa.update(primary.id, { is_primary: false })
        await tx.mfa.update(target.id, { is_primary: true })
      })
    }
    return { status: 204 }
  },
} satisfies Partial<Handlers>
