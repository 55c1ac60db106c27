/** Messages created at or before this instant (ms) have expired (MESSAGE_TTL, in seconds). */
export const expiryCutoff = (config: { messageTtl: number }, now = Date.now()) => now - config.messageTtl * 1000
