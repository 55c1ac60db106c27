// The benchmark's ceiling: what Fastify alone answers on this machine, with no logger, database,
// plugins or validation. Every scenario is reported as a share of it, measured in the same run
// with the same load settings. Listens on PORT (127.0.0.1).
import Fastify from 'fastify'

const app = Fastify({ logger: false })
const body = { status: 'ok', service: 'ceiling' }
app.get('/', async () => body)
app.get('/health/live', async () => body)

for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => void app.close().then(() => process.exit(0)))

await app.listen({ port: Number(process.env.PORT ?? 8001), host: '127.0.0.1' })
