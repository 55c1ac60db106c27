import fp from 'fastify-plugin'
import rateLimit from '@fastify/rate-limit'
import { Redis } from 'ioredis'
import type { FastifyRequest } from 'fastify'
import { errors } from '../lib/errors.js'
import { parseRate } from '../lib/rate.js'

export type ThrottleScope = 'anon' | 'user' | 'prekeybundle'

declare module 'fastify' {
  interface FastifyInstance {
    throttle: {
      /** Counts the request against the scope's limit; throws 429 `throttled` past it. */
      check(scope: ThrottleScope, request: FastifyRequest): Promise<void>
    }
  }
}

type Limiter = (req: FastifyRequest) => Promise<{ isAllowed: boolean; isExceeded: boolean; ttlInSeconds: number }>

export default fp(
  async (app) => {
    const { config } = app
    let redis: Redis | undefined
    if (config.redisUrl) {
      // Counters in Redis are shared by every instance; a Redis outage must not take the API down.
      redis = new Redis(config.redisUrl, {
        maxRetriesPerRequest: 1,
        enableOfflineQueue: false,
        lazyConnect: true,
        connectTimeout: 5000,
      })
      redis.on('error', (err) => app.log.warn({ err: err.message }, 'redis error'))
      app.addHook('onClose', async () => void (await redis!.quit().catch(() => redis!.disconnect())))
      app.health.addCheck('redis', () => redis!.ping())
      // Without the offline queue, every request sent before the connection is ready would skip its
      // throttle; so start serving only once Redis answers (or has failed once, then keep retrying).
      try {
        await redis.connect()
      } catch (err) {
        app.log.warn(
          { err: (err as Error).message },
          'redis unreachable at start-up; throttles are skipped until it is back',
        )
      }
    }
    await app.register(rateLimit, {
      global: false,
      ...(redis && { redis, nameSpace: 'signal-server:throttle:', skipOnError: true }),
    })

    const rates: Record<ThrottleScope, string> = {
      anon: config.throttleAnon,
      user: config.throttleUser,
      prekeybundle: config.throttlePrekeybundle,
    }
    const limiters = new Map<ThrottleScope, Limiter>()
    for (const [scope, rate] of Object.entries(rates) as [ThrottleScope, string][]) {
      const parsed = parseRate(rate)
      if (!parsed) continue
      limiters.set(
        scope,
        app.createRateLimit({
          max: parsed.max,
          timeWindow: parsed.windowMs,
          keyGenerator: (req: FastifyRequest) =>
            scope === 'anon' ? `${scope}:${req.ip}` : `${scope}:${req.caller.userId}`,
        }) as unknown as Limiter,
      )
    }

    app.decorate('throttle', {
      async check(scope: ThrottleScope, request: FastifyRequest) {
        const limiter = limiters.get(scope)
        if (!limiter) return
        const result = await limiter(request)
        if (!result.isAllowed && result.isExceeded) {
          const wait = Math.max(1, result.ttlInSeconds)
          throw errors.throttled(wait)
        }
      },
    })
  },
  { name: 'rate-limit', dependencies: ['config', 'health'] },
)
