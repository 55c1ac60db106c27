import { errors } from '../lib/errors.js'
import type { Handlers } from '../lib/handlers.js'

export const websocket = {
  // Only a plain request reaches this: an upgrade goes to plugins/delivery.ts.
  async openMessageSocket() {
    throw errors.upgradeRequired()
  },
} satisfies Partial<Handlers>
