import type { Queryable } from './dialect.js'
import { rowsOf } from './dialect.js'

// Open provisioning sockets by address, on whichever instance holds them, and the one linking
// message on its way to each. Whoever deletes a row with its body decides whether the message was
// delivered: the socket's instance (it sends it) or the sender giving up (it was not).
export function provisioningRepository(q: Queryable) {
  return {
    /** Registers a socket's address; first drops addresses past their time (an instance that died left them). */
    async register(address: string, userId: number, expiresAt: number): Promise<void> {
      await q('provisioning_sockets').where('expires_at', '<=', Date.now()).delete()
      await q('provisioning_sockets').insert({ address, user_id: userId, body: null, expires_at: expiresAt })
    },

    /** Leaves `body` for the open socket of that account at that address; false when there is none (or it has one). */
    async leave(address: string, userId: number, body: string): Promise<boolean> {
      const n = await q('provisioning_sockets')
        .where({ address, user_id: userId })
        .whereNull('body')
        .andWhere('expires_at', '>', Date.now())
        .update({ body })
      return n === 1
    },

    /** Takes the body left for the socket (the row goes with it), or undefined when there is none. */
    async take(address: string): Promise<string | undefined> {
      const sql = 'DELETE FROM provisioning_sockets WHERE address = ? AND body IS NOT NULL RETURNING body'
      return rowsOf<{ body: string }>(await q.raw(sql, [address]))[0]?.body
    },

    /** Takes the body back if the socket's instance has not; true when it was taken back (not delivered). */
    async withdraw(address: string): Promise<boolean> {
      const sql = 'DELETE FROM provisioning_sockets WHERE address = ? AND body IS NOT NULL RETURNING address'
      return rowsOf(await q.raw(sql, [address])).length === 1
    },

    remove: (address: string) => q('provisioning_sockets').where({ address }).delete(),
  }
}
