import type { Queryable } from './dialect.js'
import { SEALED_PREFIX, type SecretBox } from '../lib/secret-box.js'

export type MethodName = 'email' | 'app'
export type MfaMethodRow = {
  id: number
  user_id: number
  name: MethodName
  secret: string
  is_active: boolean
  is_primary: boolean
  last_totp_step: number
  email_code_hash: string | null
  email_code_expires_at: number | null
}

export function mfaRepository(q: Queryable, box: SecretBox) {
  function fromDb(row: MfaMethodRow | undefined): MfaMethodRow | undefined {
    // SQLite hands booleans back as 0/1. A secret that does not open (SECRET_KEY changed) becomes
    // '', which no code matches: the user falls back to backup codes or re-enrols.
    return (
      row && {
        ...row,
        secret: box.open(row.secret) ?? '',
        is_active: Boolean(row.is_active),
        is_primary: Boolean(row.is_primary),
      }
    )
  }

  return {
    async find(userId: number, name: MethodName) {
      return fromDb(await q<MfaMethodRow>('mfa_methods').where({ user_id: userId, name }).first())
    },

    async active(userId: number): Promise<MfaMethodRow[]> {
      const rows = await q<MfaMethodRow>('mfa_methods')
        .where({ user_id: userId, is_active: true })
        .orderBy([{ column: 'is_primary', order: 'desc' }, { column: 'id' }])
      return rows.map((r) => fromDb(r)!)
    },

    /** Creates the method inactive, or resets a pending one with a fresh secret. */
    async upsertPending(userId: number, name: MethodName, plainSecret: string) {
      const secret = box.seal(plainSecret)
      await q('mfa_methods')
        .insert({ user_id: userId, name, secret, is_active: false, is_primary: false, last_totp_step: -1 })
        .onConflict(['user_id', 'name'])
        .merge({
          secret,
          is_active: false,
          is_primary: false,
          last_totp_step: -1,
          email_code_hash: null,
          email_code_expires_at: null,
        })
    },

    update: (id: number, changes: Partial<Omit<MfaMethodRow, 'id' | 'user_id' | 'name'>>) =>
      q('mfa_methods').where({ id }).update(changes),

    /** Atomically advances the last accepted TOTP step; false when that step (or a later one) was used. */
    async claimTotpStep(id: number, step: number): Promise<boolean> {
      const n = await q('mfa_methods')
        .where({ id })
        .andWhere('last_totp_step', '<', step)
        .update({ last_totp_step: step })
      return n === 1
    },

    /** Atomically consumes the outstanding emailed code if it matches and is still valid. */
    async claimEmailCode(id: number, codeHash: string): Promise<boolean> {
      const n = await q('mfa_methods')
        .where({ id, email_code_hash: codeHash })
        .andWhere('email_code_expires_at', '>', Date.now())
        .update({ email_code_hash: null, email_code_expires_at: null })
      return n === 1
    },

    async replaceBackupCodes(methodId: number, codeHashes: string[]) {
      await q('mfa_backup_codes').where({ method_id: methodId }).delete()
      if (codeHashes.length)
        await q('mfa_backup_codes').insert(codeHashes.map((code_hash) => ({ method_id: methodId, code_hash })))
    },

    /** Deletes one matching backup code of any active method of the user; true when one was used up. */
    async claimBackupCode(userId: number, codeHash: string): Promise<boolean> {
      const ids = q('mfa_methods').select('id').where({ user_id: userId, is_active: true })
      const n = await q('mfa_backup_codes').whereIn('method_id', ids).andWhere({ code_hash: codeHash }).delete()
      return n > 0
    },

    delete: (id: number) => q('mfa_methods').where({ id }).delete(),

    /** Forgets emailed codes that expired at or before `now` (ms), which `claimEmailCode` already refuses. */
    clearExpiredEmailCodes: (now: number): Promise<number> =>
      q('mfa_methods')
        .where('email_code_expires_at', '<=', now)
        .update({ email_code_hash: null, email_code_expires_at: null }),

    /**
     * Seals the secrets stored in plain text (before encryption existed); how many were. Each row is
     * rewritten only if it still holds the plain value, so concurrent starts cannot seal twice.
     */
    async sealLegacySecrets(): Promise<number> {
      const rows = await q<{ id: number; secret: string }>('mfa_methods')
        .whereNot('secret', 'like', `${SEALED_PREFIX}%`)
        .select('id', 'secret')
      let sealed = 0
      for (const { id, secret } of rows)
        sealed += await q('mfa_methods')
          .where({ id, secret })
          .update({ secret: box.seal(secret) })
      return sealed
    },

    /** The active methods whose sealed secret does not open with this SECRET_KEY (another key, or tampered with). */
    async unreadable(): Promise<{ userId: number; name: MethodName }[]> {
      const rows = await q<MfaMethodRow>('mfa_methods')
        .where({ is_active: true })
        .andWhere('secret', 'like', `${SEALED_PREFIX}%`)
        .select('user_id', 'name', 'secret')
        .orderBy('id')
      return rows.filter((r) => box.open(r.secret) === undefined).map((r) => ({ userId: r.user_id, name: r.name }))
    },
  }
}
