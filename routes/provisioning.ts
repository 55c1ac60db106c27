import { errors } from '../lib/errors.js'
import type { Handlers } from '../lib/handlers.js'

export const provisioning = {
  // Only a plain request reaches this: an upgrade goes to plugins/provisioning.ts.
  async openProvisioningSocket() {
    throw errors.upgradeRequired()
  },

  async sendProvisioningMessage(request) {
    const { address } = request.params
    const { body } = request.body
    if (Buffer.from(body, 'base64').length > 64 * 1024) throw errors.invalidField('body.body', 'is over 64 KiB')
    // Another account's socket and no socket at all answer alike: an address reveals nothing.
    if (!(await request.server.provisioning.deliver(request.caller.userId, address, body)))
      throw errors.noProvisioningSocket()
    return { status: 204 }
  },
} satisfies Partial<Handlers>
