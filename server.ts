import { setFlagsFromString } from 'node:v8'
import { buildApp } from './app.js'
import { ConfigError, loadConfig, secretKeyIsSet } from './lib/config.js'
import { dataDirectory, developmentSecretKey } from './lib/dev-secret.js'
import { gracefulShutdown } from './lib/shutdown.js'

// V8 lets the old generation grow to about four times what survived its last full collection
// before it collects again: with ~35 MB live after start-up, a server under load held 250-310 MB
// (npm run bench, BENCHMARKS.md). Collecting at one and a half times keeps it under 200 MB, for
// about a tenth more CPU on prekey bundles (the most garbage) and none measurable elsewhere. V8
// reads the setting at each collection, so setting it here is enough; an operator's own
// `node --heap-growing-percent=N dist/server.js` is left alone (0: V8's own rule).
const HEAP_GROWING = '--heap-growing-percent'
if (!process.execArgv.some((arg) => arg.startsWith(HEAP_GROWING))) setFlagsFromString(`${HEAP_GROWING}=50`)

let config: ReturnType<typeof loadConfig>
// Development without SECRET_KEY: the key made at the first start and kept in the data directory.
let keptKeyFile: string | undefined
try {
  config = loadConfig()
} catch (err) {
  if (!(err instanceof ConfigError)) throw err
  console.error(`Configuration error: ${err.message}`)
  process.exit(1)
}
if (config.nodeEnv !== 'production' && !secretKeyIsSet(process.env)) {
  try {
    const kept = developmentSecretKey(dataDirectory(config.databaseUrl))
    config.secretKey = kept.key
    keptKeyFile = kept.file
  } catch (err) {
    console.error(
      `Configuration error: SECRET_KEY is unset and the development key cannot be kept: ${(err as Error).message}`,
    )
    process.exit(1)
  }
}

let app: Awaited<ReturnType<typeof buildApp>>
try {
  app = await buildApp(config)
} catch (err) {
  // Most often the database: unreachable, or a migration failed. One line, then a non-zero exit.
  console.error(`Start-up failed: ${(err as Error).message}`)
  process.exit(1)
}

if (keptKeyFile)
  app.log.warn(
    { file: keptKeyFile },
    `no SECRET_KEY set: using the development key kept in ${keptKeyFile} (set SECRET_KEY in production)`,
  )

// SIGTERM (docker stop, Kubernetes) or SIGINT (Ctrl-C): stop accepting, finish the requests in
// progress for up to SHUTDOWN_GRACE_PERIOD seconds, close the database and Redis, exit 0. Exit 1
// when connections had to be cut or closing hung. A second signal cuts the connections at once.
const graceMs = config.shutdownGracePeriod * 1000
const shutdown = gracefulShutdown(app, graceMs)
let stopping = false
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, async () => {
    if (stopping) return shutdown.force()
    stopping = true
    app.log.info({ signal, gracePeriod: config.shutdownGracePeriod }, 'shutting down')
    // Closing the database or Redis should take moments; never hang past the grace period by much.
    setTimeout(() => {
      app.log.error('shutdown took too long; exiting')
      process.exit(1)
    }, graceMs + 5000).unref()
    try {
      const { forced } = await shutdown.close()
      app.log.info({ forced }, 'shut down')
      process.exit(forced ? 1 : 0)
    } catch (err) {
      app.log.error({ err }, 'shutdown failed')
      process.exit(1)
    }
  })
}

try {
  await app.listen({ port: config.port, host: config.host })
} catch (err) {
  app.log.error({ err }, 'could not start')
  process.exit(1)
}
