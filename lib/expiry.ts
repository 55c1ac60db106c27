/** Messages created at or before this instant (ms) have expired (MESSAGE_TTL, in seconds). */
export const expiryCutoff = (config: { messageTtl: number }, now = Date.now()) => now - config.messageTtl * 1000

/** Accounts never activated, created at or before this instant (ms), are purged (UNVERIFIED_ACCOUNT_TTL, s). */
export const unverifiedCutoff = (config: { unverifiedAccountTtl: number }, now = Date.now()) =>
  now - config.unverifiedAccountTtl * 1000
