import fp from 'fastify-plugin'
import cors from '@fastify/cors'

// Off unless CORS_ALLOWED_ORIGINS lists origins (or `*`): native apps need no CORS, and a browser
// app should be named. Bearer tokens, not cookies, so credentials are never allowed.
export default fp(
  async (app) => {
    const origins = app.config.corsAllowedOrigins
    if (!origins.length) return
    await app.register(cors, {
      origin: origins.includes('*') ? '*' : origins,
      methods: ['GET', 'POST', 'DELETE'],
      allowedHeaders: ['authorization', 'content-type', 'signature'],
      exposedHeaders: ['retry-after'],
      maxAge: 600,
      strictPreflight: false,
    })
  },
  { name: 'cors', dependencies: ['config'] },
)
