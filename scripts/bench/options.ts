import { parseArgs } from 'node:util'

export const SCENARIOS = [
  'ceiling',
  'send',
  'fetch',
  'fetch-and-ack',
  'bundle',
  'login',
  'send-v2-3',
  'send-v2-1',
  'send-v2-6',
] as const
/** The multi-device sends (PUT /v2/messages/): how many devices each recipient account has. */
export const V2_DEVICES = { 'send-v2-1': 1, 'send-v2-3': 3, 'send-v2-6': 6 } as const
export type V2Scenario = keyof typeof V2_DEVICES
export const isV2 = (s: string): s is V2Scenario => s in V2_DEVICES
/** What runs without --scenarios: the growth runs at 1 and 6 devices only when asked for. */
const DEFAULT_SCENARIOS = SCENARIOS.filter((s) => s !== 'send-v2-1' && s !== 'send-v2-6')
export type Scenario = (typeof SCENARIOS)[number]
/** The scale check's scenarios: send and fetch on the seeded queues, and on bulk-loaded devices with long queues. */
export const SCALE_SCENARIOS = ['send', 'fetch', 'fetch-long', 'send-long'] as const
export type ScaleScenario = (typeof SCALE_SCENARIOS)[number]
/** What a measured run can be: a main scenario or one of the scale check's. */
export type RunScenario = Scenario | ScaleScenario
const DATABASES = ['sqlite', 'postgres'] as const
export type Database = (typeof DATABASES)[number]

const MAX_SCALE_QUEUE = 5000

export type BenchOptions = {
  duration: number
  warmup: number
  connections: number[]
  databases: Database[]
  scenarios: Scenario[]
  out: string
  scale: boolean
  scaleUsers: number
  scaleMessages: number
  /** Messages queued for each long-queue device (send-long and fetch-long). */
  scaleQueue: number
  /** Empty/scaled pairs per scenario and connection count. */
  scaleRounds: number
  bundlePreKeys: number
  build: boolean
  /** Run server.ts and ceiling.ts through tsx instead of dist/ (no build; for the smoke test). */
  source: boolean
  /** Run each server under `node --cpu-prof` and report where its CPU time went. */
  profile: boolean
  postgresUrl: string
}

export const USAGE = `npm run bench -- [options]
  --duration <s>        measured seconds per run (default 10)
  --warmup <s>          warm-up seconds before each measured run (default 3; 0 = none)
  --connections <list>  connection counts (default 10,50)
  --db <list>           sqlite,postgres (default both)
  --scenarios <list>    ${SCENARIOS.join(',')}
                        (default ${DEFAULT_SCENARIOS.join(',')}); send-v2-N is the multi-device send
                        (PUT /v2/messages/) from a device-bound sender to accounts of N devices
  --out <dir>           where results.json, results.md and chart.svg go (default bench-results)
  --scale               also the scale check: server CPU per request of send and fetch on an
                        empty and on a bulk-loaded database, --scale-rounds times each in turn;
                        the bulk load is --scale-messages messages across --scale-users users
                        (1000000 / 10000), and in both databases one device per connection of
                        the largest run holds --scale-queue messages (1000) for send-long and
                        fetch-long (fetch-long reads the whole queue in one GET)
  --scale-rounds <n>    empty/scaled pairs per scenario and connection count (default 3; fewer
                        than 2 give no spread, so no verdict)
  --bundle-prekeys <n>  one-time prekeys seeded for the bundle scenario, in all (default 400000:
                        a quiet 2-core machine claims ~115,000 in the default runs at 10 and 50)
  --no-build            skip \`npm run build\` (dist/ must be current)
  --profile             run each main run's server (not the scale check's) under node
                        --cpu-prof; the report lists where its CPU time went (whole process:
                        start-up and warm-up included); the .cpuprofile files stay in
                        <out>/profiles (open them in Chrome DevTools)
  --source              run server.ts and ceiling.ts through tsx instead of dist/ (no build;
                        for quick checks of the harness, not for figures)
  --postgres-url <url>  admin URL to create throwaway databases
                        (default $BENCH_POSTGRES_URL or postgres://postgres@127.0.0.1:5432/postgres)`

function list<T extends string>(value: string, allowed: readonly T[], flag: string): T[] {
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  for (const item of items)
    if (!allowed.includes(item as T)) throw new Error(`${flag}: unknown "${item}" (one of ${allowed.join(', ')})`)
  if (items.length === 0) throw new Error(`${flag}: empty list`)
  return [...new Set(items)] as T[]
}

function number(value: string, flag: string, min: number): number {
  const n = Number(value)
  if (!Number.isFinite(n) || n < min) throw new Error(`${flag}: expected a number >= ${min}, got "${value}"`)
  return n
}

export function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '3' },
      connections: { type: 'string', default: '10,50' },
      db: { type: 'string', default: DATABASES.join(',') },
      scenarios: { type: 'string', default: DEFAULT_SCENARIOS.join(',') },
      out: { type: 'string', default: 'bench-results' },
      scale: { type: 'boolean', default: false },
      'scale-users': { type: 'string', default: '10000' },
      'scale-messages': { type: 'string', default: '1000000' },
      'scale-queue': { type: 'string', default: '1000' },
      'scale-rounds': { type: 'string', default: '3' },
      'bundle-prekeys': { type: 'string', default: '400000' },
      'no-build': { type: 'boolean', default: false },
      source: { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      'postgres-url': {
        type: 'string',
        default: process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
      },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  })
  if (values.help) {
    console.log(USAGE)
    process.exit(0)
  }
  const connections = values.connections.split(',').map((c) => number(c, '--connections', 1))
  if (connections.some((c) => !Number.isInteger(c))) throw new Error('--connections: whole numbers only')
  // send-long adds to these queues during a run; the server refuses a send beyond
  // MAX_QUEUED_MESSAGES (10,000 by default), and every refusal fails the run.
  if (Number(values['scale-queue']) > MAX_SCALE_QUEUE)
    throw new Error(
      `--scale-queue: at most ${MAX_SCALE_QUEUE}, so that sends during a run keep the queue under the server's limit`,
    )
  return {
    duration: number(values.duration, '--duration', 1),
    warmup: number(values.warmup, '--warmup', 0),
    connections: [...new Set(connections)].sort((a, b) => a - b),
    databases: list(values.db, DATABASES, '--db'),
    scenarios: list(values.scenarios, SCENARIOS, '--scenarios'),
    out: values.out,
    scale: values.scale,
    scaleUsers: Math.floor(number(values['scale-users'], '--scale-users', 1)),
    scaleMessages: Math.floor(number(values['scale-messages'], '--scale-messages', 0)),
    scaleQueue: Math.floor(number(values['scale-queue'], '--scale-queue', 1)),
    scaleRounds: Math.floor(number(values['scale-rounds'], '--scale-rounds', 1)),
    bundlePreKeys: Math.floor(number(values['bundle-prekeys'], '--bundle-prekeys', 1)),
    build: !values['no-build'] && !values.source,
    source: values.source,
    profile: values.profile,
    postgresUrl: values['postgres-url'],
  }
}
