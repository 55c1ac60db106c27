import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream, readdirSync, readFileSync, statSync } from 'node:fs'
import { createServer } from 'node:net'
import { randomBytes } from 'node:crypto'

/** A port nobody listens on right now (the OS picks it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number }
      srv.close(() => resolve(port))
    })
  })
}

export type Running = {
  pid: number
  url: string
  logFile: string
  child: ChildProcess
  stop(): Promise<void>
}

/** The server's environment: nothing inherited but PATH and HOME, so no REDIS_URL or EMAIL_HOST leaks in. */
export function serverEnv(
  databaseUrl: string,
  secretKey: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    NODE_ENV: 'production',
    DATABASE_URL: databaseUrl,
    SECRET_KEY: secretKey,
    HOST: '127.0.0.1',
    ALLOWED_HOSTS: '127.0.0.1,localhost',
    THROTTLE_ANON: 'off',
    THROTTLE_USER: 'off',
    THROTTLE_PREKEYBUNDLE: 'off',
    // Past it a device's bundles carry no one-time keys: cheaper answers, which the bundle
    // scenario's check refuses to count (every bundle must be a real claim).
    PREKEY_CLAIM_LIMIT: 'off',
    MAX_PREKEYS: '100000',
    // Settings an experiment varies (e.g. BENCH_SERVER_ENV=DATABASE_POOL_MAX=20), space-separated.
    ...Object.fromEntries(
      (process.env.BENCH_SERVER_ENV ?? '')
        .split(' ')
        .filter((kv) => kv.includes('='))
        .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
    ),
    ...extra,
  }
}

export const randomSecret = () => randomBytes(32).toString('hex')

/**
 * Starts `node <args>` with `env` (+ PORT, PUBLIC_URL) and resolves once it answers HTTP.
 * Its stdout and stderr go to `logFile`.
 */
export async function startProcess(
  args: string[],
  env: Record<string, string>,
  logFile: string,
  cwd: string,
): Promise<Running> {
  const script = args.join(' ')
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const log = createWriteStream(logFile)
  await new Promise((r) => log.once('open', r))
  const child = spawn(process.execPath, args, {
    cwd,
    env: { ...env, PORT: String(port), PUBLIC_URL: url },
    stdio: ['ignore', log, log],
  })
  let exited: number | null | undefined
  const exit = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = code ?? (signal ? -1 : null)
      resolve()
    }),
  )
  const deadline = Date.now() + 60_000
  for (;;) {
    if (exited !== undefined)
      throw new Error(`${script} exited (${exited}) before listening; log: ${logFile}\n${tail(logFile)}`)
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`${script} did not answer HTTP within 60 s; log: ${logFile}\n${tail(logFile)}`)
    }
    try {
      await fetch(`${url}/health/live`, { signal: AbortSignal.timeout(1000) })
      break
    } catch {
      await new Promise((r) => setTimeout(r, 100))
    }
  }
  return {
    pid: child.pid!,
    url,
    logFile,
    child,
    async stop() {
      if (exited === undefined) {
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
        await exit
        clearTimeout(timer)
      }
      log.end()
    },
  }
}

function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
  } catch {
    return ''
  }
}

/** VmRSS and VmHWM of a process in MB, from /proc (Linux). */
function memoryOf(pid: number): { rss: number; hwm: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN)
    return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 }
  } catch {
    return undefined
  }
}

/**
 * Samples VmRSS every `everyMs` until stopped; returns the largest sample and VmHWM at the end
 * (at least that sample).
 */
export function sampleMemory(pid: number, everyMs = 100) {
  let peak = 0
  const take = () => {
    const m = memoryOf(pid)
    if (m && m.rss > peak) peak = m.rss
  }
  take()
  const timer = setInterval(take, everyMs)
  return {
    stop() {
      clearInterval(timer)
      take()
      // The kernel's RSS counters are approximate and VmHWM is updated only now and then: it can
      // read 0.1-0.2 MB under a VmRSS sampled earlier. The peak since start is at least that sample.
      return { peakRssMb: round(peak, 1), hwmMb: round(Math.max(memoryOf(pid)?.hwm ?? NaN, peak), 1) }
    },
  }
}

/** Bytes in a file so far (0 if there is none): where the next run's part of a shared log starts. */
export function sizeOf(file: string): number {
  try {
    return statSync(file).size
  } catch {
    return 0
  }
}

/**
 * pino lines at level error (50) or fatal (60) in a server log, from byte `from` on (one run's
 * part of a log several runs share): their count and the first few messages.
 */
export function logErrors(file: string, from = 0): { count: number; samples: string[] } {
  let text = ''
  try {
    text = readFileSync(file).subarray(from).toString('utf8')
  } catch {
    return { count: 0, samples: [] }
  }
  const samples: string[] = []
  let count = 0
  for (const line of text.split('\n')) {
    if (!/"level":\s*(50|60)\b/.test(line)) continue
    count++
    if (samples.length < 5) {
      try {
        const entry = JSON.parse(line) as { msg?: string; err?: { message?: string; type?: string } }
        samples.push([entry.msg, entry.err?.type, entry.err?.message].filter(Boolean).join(': ').slice(0, 300))
      } catch {
        samples.push(line.slice(0, 300))
      }
    }
  }
  return { count, samples }
}

export const round = (n: number, digits = 0) => (Number.isFinite(n) ? Math.round(n * 10 ** digits) / 10 ** digits : n)

/** CPU seconds (user + system, all threads) the process has used, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name (which may hold spaces) start at ") "; utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100 // clock ticks; 100 per second on Linux
  } catch {
    return undefined
  }
}

/**
 * CPU seconds of every `postgres` process on this machine (PostgreSQL's backends, WAL writer,
 * checkpointer...): what the database did for a run, when it runs here.
 */
export function postgresCpuSeconds(): number {
  let total = 0
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres') total += cpuSeconds(Number(pid)) ?? 0
    } catch {
      // gone meanwhile
    }
  }
  return total
}

/**
 * Waits until the process has gone quiet (under 5% of a core over 250 ms), at most `maxMs`.
 * autocannon abandons the requests still in flight when a run ends, but the server finishes them:
 * without this, a slow scenario's warm-up (logins) would still be hashing inside the measured window.
 */
export async function waitIdle(pid: number, maxMs = 60_000): Promise<void> {
  const deadline = Date.now() + maxMs
  let last = cpuSeconds(pid)
  while (last !== undefined && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250))
    const now = cpuSeconds(pid)
    if (now === undefined || now - last < 0.0125) return
    last = now
  }
}
