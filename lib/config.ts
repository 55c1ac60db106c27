import { randomBytes } from 'node:crypto'
import { Type, type Static } from '@sinclair/typebox'
import { Ajv } from 'ajv'
import { RATE_PATTERN } from '../lib/rate.js'

// Django-style rates ("3/hour", "20/minute") or "off".
const Rate = Type.String({ pattern: RATE_PATTERN })

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
type LogLevel = (typeof LOG_LEVELS)[number]

const ConfigSchema = Type.Object({
  nodeEnv: Type.String({ default: 'development' }),
  port: Type.Integer({ minimum: 0, maximum: 65535, default: 8000 }),
  host: Type.String({ minLength: 1, default: '127.0.0.1' }),
  logLevel: Type.Unsafe<LogLevel>({ type: 'string', enum: [...LOG_LEVELS], default: 'info' }),
  trustProxy: Type.Boolean({ default: false }),
  databaseUrl: Type.String({ minLength: 1, default: './data/signal-server.sqlite' }),
  databasePoolMax: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  // Seconds a request waits for the database (a connection, or SQLite's lock) before answering 503.
  databaseTimeout: Type.Number({ exclusiveMinimum: 0, maximum: 600, default: 10 }),
  secretKey: Type.String({ minLength: 32 }),
  allowedHosts: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
  corsAllowedOrigins: Type.Array(Type.String({ pattern: '^(\\*|https?://[^\\s/]+)$' }), { default: [] }),
  publicUrl: Type.String({ pattern: '^https?://[^\\s]+$' }),
  redisUrl: Type.Optional(Type.String({ pattern: '^rediss?://' })),
  emailHost: Type.Optional(Type.String({ minLength: 1 })),
  emailPort: Type.Integer({ minimum: 1, maximum: 65535, default: 25 }),
  emailHostUser: Type.Optional(Type.String()),
  emailHostPassword: Type.Optional(Type.String()),
  emailUseTls: Type.Boolean({ default: false }),
  emailUseSsl: Type.Boolean({ default: false }),
  emailTimeout: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
  emailSslKeyfile: Type.Optional(Type.String({ minLength: 1 })),
  emailSslCertfile: Type.Optional(Type.String({ minLength: 1 })),
  fromEmail: Type.String({ minLength: 3, default: 'no-reply@localhost' }),
  applicationName: Type.String({ minLength: 1, default: 'Signal Server' }),
  throttleAnon: Type.String({ ...Rate, default: '30/hour' }),
  throttleUser: Type.String({ ...Rate, default: '1000/day' }),
  throttlePrekeybundle: Type.String({ ...Rate, default: '100/day' }),
  maxPrekeys: Type.Integer({ minimum: 1, maximum: 100000, default: 100 }),
  maxDevices: Type.Integer({ minimum: 1, maximum: 100, default: 6 }),
  prekeyClaimLimit: Type.String({ ...Rate, default: '200/hour' }),
  maxMessageBytes: Type.Integer({ minimum: 1, maximum: 16 * 1024 * 1024, default: 65536 }),
  messageTtl: Type.Integer({ minimum: 60, default: 30 * 24 * 3600 }),
  maxQueuedMessages: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 10_000 }),
  messagePurgeInterval: Type.Integer({ minimum: 0, default: 600 }),
  authTokenTtl: Type.Integer({ minimum: 60, default: 30 * 24 * 3600 }),
  ephemeralTokenTtl: Type.Integer({ minimum: 30, default: 600 }),
  emailCodeTtl: Type.Integer({ minimum: 30, default: 600 }),
  passwordResetTimeout: Type.Integer({ minimum: 60, default: 3600 }),
  // djoser's SEND_ACTIVATION_EMAIL: new accounts must open a mailed link before they can log in.
  emailVerification: Type.Unsafe<'on' | 'off'>({ type: 'string', enum: ['on', 'off'], default: 'off' }),
  unverifiedAccountTtl: Type.Integer({ minimum: 60, default: 7 * 24 * 3600 }),
  bcryptCost: Type.Integer({ minimum: 4, maximum: 31, default: 12 }),
  lockoutThreshold: Type.Integer({ minimum: 1, maximum: 1000, default: 5 }),
  lockoutDuration: Type.Integer({ minimum: 1, default: 900 }),
  requestTimeout: Type.Number({ exclusiveMinimum: 0, default: 30 }),
  connectionTimeout: Type.Number({ exclusiveMinimum: 0, default: 75 }),
  shutdownGracePeriod: Type.Number({ minimum: 0, default: 10 }),
  wsHeartbeatInterval: Type.Number({ exclusiveMinimum: 0, maximum: 3600, default: 30 }),
  // /metrics: on its own listener when METRICS_PORT is set, else on the API port behind METRICS_TOKEN;
  // with neither it is off (404).
  metricsToken: Type.Optional(Type.String({ minLength: 16 })),
  metricsPort: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
  metricsHost: Type.String({ minLength: 1, default: '127.0.0.1' }),
  // The browser client at / (plugins/web-client.ts), from the bundle `npm run build` makes; the
  // directory defaults to dist/web/ of this checkout or image.
  webClient: Type.Boolean({ default: true }),
  webClientDir: Type.Optional(Type.String({ minLength: 1 })),
})

export type Config = Static<typeof ConfigSchema>

// Each setting, the environment variables it is read from (first one set wins), and how to read it.
const sources: Record<keyof Config, { env: string[]; kind?: 'list' }> = {
  nodeEnv: { env: ['NODE_ENV'] },
  port: { env: ['PORT'] },
  host: { env: ['HOST'] },
  logLevel: { env: ['LOG_LEVEL'] },
  trustProxy: { env: ['TRUST_PROXY'] },
  databaseUrl: { env: ['DATABASE_URL'] },
  databasePoolMax: { env: ['DATABASE_POOL_MAX'] },
  databaseTimeout: { env: ['DATABASE_TIMEOUT'] },
  secretKey: { env: ['SECRET_KEY', 'DJANGO_SECRET_KEY'] },
  allowedHosts: { env: ['ALLOWED_HOSTS', 'DJANGO_ALLOWED_HOSTS'], kind: 'list' },
  corsAllowedOrigins: { env: ['CORS_ALLOWED_ORIGINS'], kind: 'list' },
  publicUrl: { env: ['PUBLIC_URL'] },
  redisUrl: { env: ['REDIS_URL'] },
  emailHost: { env: ['EMAIL_HOST'] },
  emailPort: { env: ['EMAIL_PORT'] },
  emailHostUser: { env: ['EMAIL_HOST_USER'] },
  emailHostPassword: { env: ['EMAIL_HOST_PASSWORD'] },
  emailUseTls: { env: ['EMAIL_USE_TLS'] },
  emailUseSsl: { env: ['EMAIL_USE_SSL'] },
  emailTimeout: { env: ['EMAIL_TIMEOUT'] },
  emailSslKeyfile: { env: ['EMAIL_SSL_KEYFILE'] },
  emailSslCertfile: { env: ['EMAIL_SSL_CERTFILE'] },
  fromEmail: { env: ['2FA_FROM_EMAIL', 'MFA_FROM_EMAIL', 'DEFAULT_FROM_EMAIL'] },
  applicationName: { env: ['2FA_APPLICATION_NAME', 'MFA_APPLICATION_NAME'] },
  throttleAnon: { env: ['THROTTLE_ANON'] },
  throttleUser: { env: ['THROTTLE_USER'] },
  throttlePrekeybundle: { env: ['THROTTLE_PREKEYBUNDLE'] },
  maxPrekeys: { env: ['MAX_PREKEYS'] },
  maxDevices: { env: ['MAX_DEVICES'] },
  prekeyClaimLimit: { env: ['PREKEY_CLAIM_LIMIT'] },
  maxMessageBytes: { env: ['MAX_MESSAGE_BYTES'] },
  messageTtl: { env: ['MESSAGE_TTL'] },
  maxQueuedMessages: { env: ['MAX_QUEUED_MESSAGES'] },
  messagePurgeInterval: { env: ['MESSAGE_PURGE_INTERVAL'] },
  authTokenTtl: { env: ['AUTH_TOKEN_TTL'] },
  ephemeralTokenTtl: { env: ['MFA_EPHEMERAL_TOKEN_TTL'] },
  emailCodeTtl: { env: ['MFA_EMAIL_CODE_TTL'] },
  passwordResetTimeout: { env: ['PASSWORD_RESET_TIMEOUT'] },
  emailVerification: { env: ['EMAIL_VERIFICATION'] },
  unverifiedAccountTtl: { env: ['UNVERIFIED_ACCOUNT_TTL'] },
  bcryptCost: { env: ['BCRYPT_COST'] },
  lockoutThreshold: { env: ['LOCKOUT_THRESHOLD'] },
  lockoutDuration: { env: ['LOCKOUT_DURATION'] },
  requestTimeout: { env: ['REQUEST_TIMEOUT'] },
  connectionTimeout: { env: ['CONNECTION_TIMEOUT'] },
  shutdownGracePeriod: { env: ['SHUTDOWN_GRACE_PERIOD'] },
  wsHeartbeatInterval: { env: ['WS_HEARTBEAT_INTERVAL'] },
  metricsToken: { env: ['METRICS_TOKEN'] },
  metricsPort: { env: ['METRICS_PORT'] },
  metricsHost: { env: ['METRICS_HOST'] },
  webClient: { env: ['WEB_CLIENT'] },
  webClientDir: { env: ['WEB_CLIENT_DIR'] },
}

// The seed's separate PostgreSQL variables, read by fromEnv when DATABASE_URL is unset.
const DATABASE_PART_VARIABLES = [
  'DATABASE_NAME',
  'DATABASE_USER',
  'DATABASE_PASSWORD',
  'DATABASE_HOST',
  'DATABASE_PORT',
]

/** Whether `env` sets SECRET_KEY (or its alias); without, development keeps a key of its own (lib/dev-secret.ts). */
export const secretKeyIsSet = (env: NodeJS.ProcessEnv): boolean => sources.secretKey.env.some((name) => env[name])

/** Every environment variable the configuration reads; the README's table must list exactly these. */
export const ENV_VARIABLES: readonly string[] = [
  ...Object.values(sources).flatMap((s) => s.env),
  ...DATABASE_PART_VARIABLES,
]

// Placeholders from this project's and the seed's docs, examples and tests, and common words.
const WEAK_WORDS = [
  'changeme',
  'change-me',
  'change_me',
  'secret',
  'password',
  'please-change',
  'example',
  'default',
  'insecure',
  'test-secret',
  'your-secret',
  'replace-me',
  'xxxxxxxx',
]

/**
 * A key production must not run with: a known placeholder, Django's development keys
 * ("django-insecure-..."), or one with too little variety to be random (e.g. "aaaa...", "0123...").
 */
function isWeakSecret(key: string): boolean {
  const lower = key.toLowerCase()
  if (WEAK_WORDS.some((w) => lower.includes(w)) || lower.startsWith('django-insecure')) return true
  return new Set(key).size < 10
}

// Booleans as the seed's (Python) deployments spell them too: True/False, 1/0.
const BOOLEANS: Record<string, boolean> = { true: true, false: false, '1': true, '0': false }
const booleanKeys = new Set(
  Object.entries(ConfigSchema.properties)
    .filter(([, schema]) => (schema as { type?: string }).type === 'boolean')
    .map(([key]) => key),
)

export class ConfigError extends Error {
  override name = 'ConfigError'
}

// Settings that hold (or may embed) credentials: an error names the variable but never echoes the value.
const SECRET_KEYS = new Set(['secretKey', 'emailHostPassword', 'databaseUrl', 'redisUrl', 'metricsToken'])

const ajv = new Ajv({ useDefaults: true, coerceTypes: true, allErrors: false })
const validate = ajv.compile(ConfigSchema)

/** The settings found in `env`, and for each the variable it was read from (for error messages). */
function fromEnv(env: NodeJS.ProcessEnv): { raw: Record<string, unknown>; usedNames: Record<string, string> } {
  const raw: Record<string, unknown> = {}
  const usedNames: Record<string, string> = {}
  for (const [key, { env: names, kind }] of Object.entries(sources)) {
    const name = names.find((n) => env[n] !== undefined && env[n] !== '')
    if (!name) continue
    const value = env[name] as string
    usedNames[key] = name
    if (kind === 'list') raw[key] = value.split(/[\s,]+/).filter(Boolean)
    else if (booleanKeys.has(key)) raw[key] = BOOLEANS[value.trim().toLowerCase()] ?? value
    else raw[key] = value
  }
  // The seed configured PostgreSQL through separate variables.
  if (raw.databaseUrl === undefined && env.DATABASE_NAME) {
    if (env.DATABASE_PORT && !/^[0-9]{1,5}$/.test(env.DATABASE_PORT))
      throw new ConfigError(`DATABASE_PORT: must be integer (got ${JSON.stringify(env.DATABASE_PORT)})`)
    const password = env.DATABASE_PASSWORD ? `:${encodeURIComponent(env.DATABASE_PASSWORD)}` : ''
    const auth = env.DATABASE_USER ? `${encodeURIComponent(env.DATABASE_USER)}${password}@` : ''
    const where = `${env.DATABASE_HOST || '127.0.0.1'}:${env.DATABASE_PORT || 5432}`
    raw.databaseUrl = `postgres://${auth}${where}/${encodeURIComponent(env.DATABASE_NAME)}`
    usedNames.databaseUrl = 'DATABASE_NAME'
  }
  return { raw, usedNames }
}

function envNameOf(key: string, usedNames: Record<string, string>): string {
  return usedNames[key] ?? (sources as Record<string, { env: string[] }>)[key]?.env[0] ?? key
}

/**
 * Reads and validates the whole configuration once. Throws ConfigError with one line naming the
 * offending variable. `overrides` (tests, tools) win over the environment.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const found = fromEnv(env)
  const usedNames = found.usedNames
  for (const key of Object.keys(overrides)) delete usedNames[key]
  const raw: Record<string, unknown> = { ...found.raw, ...overrides }
  const secretName = envNameOf('secretKey', usedNames)
  const production = (raw.nodeEnv ?? 'development') === 'production'
  if (raw.secretKey === undefined) {
    if (production) throw new ConfigError('SECRET_KEY must be set when NODE_ENV=production.')
    // Development only: a throwaway key for tools and tests; the server itself keeps one in its data
    // directory instead (server.ts, lib/dev-secret.ts), so that a restart loses nothing.
    raw.secretKey = randomBytes(32).toString('hex')
  } else if (production && isWeakSecret(String(raw.secretKey))) {
    throw new ConfigError(`${secretName} is a known default; set a long random value.`)
  }
  if (raw.publicUrl === undefined) {
    // Reset links made from a localhost default would reach nobody: production must say where it lives.
    if (production)
      throw new ConfigError('PUBLIC_URL must be set when NODE_ENV=production (the base of emailed links).')
    raw.publicUrl = `http://localhost:${raw.port ?? 8000}`
  }
  if (!validate(raw)) {
    const err = validate.errors![0]
    const key = err.instancePath.split('/')[1] || (err.params as { missingProperty?: string }).missingProperty || ''
    const allowed = (err.params as { allowedValues?: unknown[] }).allowedValues
    const detail = allowed ? `${err.message}: ${allowed.join(', ')}` : err.message
    throw new ConfigError(
      `${envNameOf(key, usedNames)}: ${detail}${SECRET_KEYS.has(key) ? '' : ` (got ${JSON.stringify(raw[key])})`}`,
    )
  }
  const config = raw as Config
  config.publicUrl = config.publicUrl.replace(/\/+$/, '')
  if (config.emailUseTls && config.emailUseSsl)
    throw new ConfigError('EMAIL_USE_TLS and EMAIL_USE_SSL are mutually exclusive.')
  return config
}
