import { availableParallelism, loadavg } from 'node:os'
import autocannon from 'autocannon'
import type { Database, RunScenario } from './options.js'
import {
  cpuSeconds,
  logErrors,
  postgresCpuSeconds,
  round,
  sampleMemory,
  sizeOf,
  waitIdle,
  type Running,
} from './processes.js'
import { newChecks, plan } from './scenarios.js'
import type { Seeded } from './seed.js'
import type { RunResult } from './report.js'

export type MeasureSettings = { duration: number; warmup: number }

// A safety net only: logins at 50 connections queue behind bcrypt for seconds, and must not be
// cut off as timeouts (every timeout fails the run).
const TIMEOUT_S = 60

/** Warm-up, then the measured window with the server's memory sampled; one result row. */
export async function measure(
  server: Running,
  target: { db: Database; scenario: RunScenario; connections: number; phase?: 'empty' | 'scaled'; round?: number },
  seeded: Seeded | undefined,
  settings: MeasureSettings,
): Promise<RunResult> {
  const base = { url: server.url, connections: target.connections, timeout: TIMEOUT_S, pipelining: 1 }
  // This run's part of the server log (a scale-check server serves several runs in turn).
  const logFrom = sizeOf(server.logFile)
  let warmup: RunResult['warmup'] = null
  if (settings.warmup > 0) {
    // Checked like the measured window: a failure here fails the run too (failuresOf).
    const warmChecks = newChecks()
    const warm = await autocannon({ ...base, duration: settings.warmup, ...plan(target.scenario, seeded, warmChecks) })
    warmup = {
      requests: warm.requests.total,
      non2xx: warm.non2xx,
      errors: warm.errors,
      timeouts: warm.timeouts,
      resets: warm.resets,
      statusCodes: statusCodesOf(warm),
      checkFailures: warmChecks.failures,
    }
  }
  // Requests the warm-up (or an earlier run on this server) left in flight finish before the window starts.
  await waitIdle(server.pid)
  const checks = newChecks()
  const load = loadavg()[0]
  const memory = sampleMemory(server.pid)
  const cpuBefore = cpuSeconds(server.pid) ?? NaN
  const postgres = target.db === 'postgres' && target.scenario !== 'ceiling'
  const dbBefore = postgres ? postgresCpuSeconds() : 0
  const result = await autocannon({ ...base, duration: settings.duration, ...plan(target.scenario, seeded, checks) })
  const cpuUsed = (cpuSeconds(server.pid) ?? NaN) - cpuBefore
  const dbUsed = postgres ? postgresCpuSeconds() - dbBefore : NaN
  const { peakRssMb, hwmMb } = memory.stop()
  const seconds = result.duration
  const reqPerSec = result.requests.total / seconds
  const statusCodes = statusCodesOf(result)
  const extra: RunResult['extra'] = {}
  if (target.scenario === 'fetch-and-ack') extra.acksPerSec = round(checks.acked / seconds, 1)
  if (target.scenario === 'login') extra.loginsPerSecPerCore = round(reqPerSec / availableParallelism(), 2)
  const serverLog = target.scenario === 'ceiling' ? { count: 0, samples: [] } : logErrors(server.logFile, logFrom)
  return {
    db: target.db,
    scenario: target.scenario,
    connections: target.connections,
    ...(target.phase && { phase: target.phase }),
    ...(target.round && { round: target.round }),
    reqPerSec: round(reqPerSec, 1),
    requests: result.requests.total,
    seconds: round(seconds, 2),
    latencyMs: {
      p50: result.latency.p50,
      p99: result.latency.p99,
      max: result.latency.max,
      mean: round(result.latency.mean, 2),
    },
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    resets: result.resets,
    statusCodes,
    checkFailures: checks.failures,
    warmup,
    serverCpuMsPerRequest: round((cpuUsed * 1000) / Math.max(1, result.requests.total), 3),
    serverCpuCores: round(cpuUsed / seconds, 2),
    dbCpuMsPerRequest: postgres ? round((dbUsed * 1000) / Math.max(1, result.requests.total), 3) : null,
    cpuRatioToCeiling: null,
    peakRssMb,
    hwmMb,
    serverLogErrors: serverLog.count,
    serverLogErrorSamples: serverLog.samples,
    loadavg1m: round(load, 2),
    ratioToCeiling: null,
    extra,
  }
}

const statusCodesOf = (result: autocannon.Result): Record<string, number> =>
  Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, s]) => [code, Number(s.count)]))
