import { ApiError } from '../lib/api-error.js'
import type { Handlers } from '../lib/handlers.js'

export const websocket = {
  // Only a plain request reaches this: an upgrade goes to plugins/delivery.ts.
  async openMessageSocket() {
    throw new ApiError(426, 'upgrade_required', 'Open this address as a WebSocket.', undefined, {
      upgrade: 'websocket',
    })
  },
} satisfies Partial<Handlers>
