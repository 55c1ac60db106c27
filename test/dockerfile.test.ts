// The Dockerfile, checked without a Docker engine: linted (dockerfile-utils), held to this
// project's rules, and its runtime stage rebuilt in a temporary directory exactly as its COPY
// instructions lay it out, where the image's own CMD, ENV and HEALTHCHECK are run.
import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import { validate } from 'dockerfile-utils'
import { database, freePort, freshPostgresUrl, PASSWORD, uniqueEmail } from './helper.js'
import { capturing, declareSource, recordSecret, recordSecrets, spawnedLogStream } from './log-capture.js'
import { fetchChecked } from './spec-check.js'
import { webBundle } from './web-bundle.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8')

type Instruction = { keyword: string; args: string }

/** Instructions in order: comments dropped, `\` continuations joined. */
function parse(text: string): Instruction[] {
  const logical: string[] = []
  let pending = ''
  for (const line of text.split('\n')) {
    if (/^\s*#/.test(line)) continue
    pending += line.replace(/\\\s*$/, ' ')
    if (/\\\s*$/.test(line)) continue
    if (pending.trim()) logical.push(pending.trim())
    pending = ''
  }
  return logical.map((l) => {
    const [, keyword, args] = /^(\S+)\s*([\s\S]*)$/.exec(l)!
    return { keyword: keyword.toUpperCase(), args }
  })
}

/** KEY=value pairs of ENV/ARG arguments (values without quotes or spaces, as this file writes them). */
const pairs = (args: string) =>
  Object.fromEntries(
    args
      .split(/\s+/)
      .filter(Boolean)
      .map((p) => p.split(/=(.*)/s).slice(0, 2)),
  )

const instructions = parse(dockerfile)
const stages: Instruction[][] = []
for (const i of instructions) {
  if (i.keyword === 'FROM') stages.push([])
  stages.at(-1)?.push(i)
}
const runtime = stages.at(-1)!
const argDefaults = Object.assign(
  {},
  ...instructions.filter((i) => i.keyword === 'ARG').map((i) => pairs(i.args)),
) as Record<string, string>
const runtimeEnv = Object.assign({}, ...runtime.filter((i) => i.keyword === 'ENV').map((i) => pairs(i.args))) as Record<
  string,
  string
>
const workdir = runtime.filter((i) => i.keyword === 'WORKDIR').at(-1)?.args
const cmd = JSON.parse(runtime.find((i) => i.keyword === 'CMD')?.args ?? 'null') as string[] | null
const healthcheck = runtime.find((i) => i.keyword === 'HEALTHCHECK')?.args ?? ''
const healthcheckCmd = JSON.parse(healthcheck.slice(healthcheck.indexOf('CMD') + 3).trim() || 'null') as string[] | null

t.test('the linter finds no problem (and does find one in a broken file)', async (tt) => {
  const problems = validate(dockerfile)
  tt.same(
    problems.map((p) => `line ${p.range.start.line + 1}: ${p.message}`),
    [],
    'no errors or warnings',
  )
  const broken = validate(
    'FROM node:20.20.2-bookworm-slim\nHEALTHCHECK --interval=soon CMD ["true"]\nCMD node a.js\nCMD node b.js\n',
  )
  tt.ok(broken.length >= 2, `a bad interval and two CMDs are reported: ${broken.map((p) => p.message).join('; ')}`)
})

t.test('multi-stage, on one exactly pinned Node 20 image, running as a non-root user', async (tt) => {
  tt.ok(stages.length >= 2, 'a build stage and a runtime stage')
  for (const [n, stage] of stages.entries()) {
    const image = stage[0].args.split(/\s+/)[0].replace(/^\$\{(\w+)\}$/, (_, name) => argDefaults[name] ?? '')
    tt.match(
      image,
      /^node:20\.\d+\.\d+-[a-z]+-slim$/,
      `stage ${n + 1} uses an exact Node 20 release of a slim image (${image})`,
    )
  }
  const user = runtime.filter((i) => i.keyword === 'USER').at(-1)?.args
  tt.ok(user && !/^(root|0)(:|$)/.test(user), `the runtime stage switches to a non-root user (${user})`)
  tt.notOk(
    runtime.some((i) => i.keyword === 'RUN' && /apt-get|npm (ci|install)/.test(i.args)),
    'the runtime stage installs nothing: no compiler, no npm install',
  )
})

t.test(
  'the runtime settings: listens on all interfaces on 8000, SQLite on the /data volume, health check, exec-form CMD',
  async (tt) => {
    tt.equal(runtimeEnv.HOST, '0.0.0.0')
    tt.equal(runtimeEnv.PORT, '8000')
    tt.equal(runtimeEnv.NODE_ENV, 'production')
    tt.match(runtimeEnv.DATABASE_URL, /^\/data\/[^/]+\.sqlite$/, 'the default SQLite file is on the volume')
    tt.ok(
      runtime.some((i) => i.keyword === 'VOLUME' && /(^|\s|")\/data("|\s|$)/.test(i.args)),
      'VOLUME /data',
    )
    tt.ok(
      runtime.some((i) => i.keyword === 'EXPOSE' && i.args.split(/\s+/).includes('8000')),
      'EXPOSE 8000',
    )
    tt.match(healthcheck, /--interval=\d+s/)
    tt.same(healthcheckCmd?.slice(0, 2), ['node', '-e'], 'the health check runs node itself (slim images have no curl)')
    tt.ok(Array.isArray(cmd) && cmd.length > 0, 'CMD is in exec form, so the server gets SIGTERM itself, not a shell')
    tt.equal(workdir, '/app')
  },
)

/**
 * The runtime stage's /app, laid out in a temporary directory: the compiled tree (tsconfig.build.json,
 * what `npm run build` makes) as dist/, and every other COPY --from=build source from the work tree.
 * node_modules is linked, not pruned; the import check below covers what pruning removes.
 */
function runtimeTree(tt: Test): string {
  const app = mkdtempSync(join(tmpdir(), 'signal-server-image-'))
  tt.teardown(() => rmSync(app, { recursive: true, force: true }))
  const build = spawnSync(
    process.execPath,
    [
      join(root, 'node_modules/typescript/bin/tsc'),
      ...['-p', 'tsconfig.build.json', '--outDir', join(app, 'dist')],
      // Its incremental state goes with this tree, not into the work tree's dist/ (npm start's).
      ...['--tsBuildInfoFile', join(app, 'dist', '.tsbuildinfo')],
    ],
    { cwd: root, encoding: 'utf8' },
  )
  if (build.status !== 0) throw new Error(`build failed: ${build.stdout}${build.stderr}`)
  for (const copy of runtime.filter((i) => i.keyword === 'COPY')) {
    const words = copy.args.split(/\s+/).filter((w) => !w.startsWith('--'))
    const dest = words.pop()!
    for (const src of words) {
      const rel = src.replace(/^\/app\//, '')
      const target = resolve(app, dest.endsWith('/') || words.length > 1 ? join(dest, rel.split('/').pop()!) : dest)
      if (rel === 'dist') continue // built above
      mkdirSync(dirname(target), { recursive: true })
      if (rel === 'node_modules') symlinkSync(join(root, 'node_modules'), target)
      else cpSync(join(root, rel), target, { recursive: true })
    }
  }
  return app
}

/** The packages the compiled entry points import, following relative imports through dist/. */
function importedPackages(app: string, entries: string[]): Set<string> {
  const seen = new Set<string>()
  const packages = new Set<string>()
  const visit = (file: string) => {
    if (seen.has(file)) return
    seen.add(file)
    const source = readFileSync(file, 'utf8')
    for (const [, spec] of source.matchAll(
      /(?:^|[^\w.])(?:import|export)\s*(?:[^'"]*?\sfrom\s*)?\(?\s*['"]([^'"]+)['"]/gm,
    )) {
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec))
      else if (!spec.startsWith('node:') && !builtinModules.includes(spec))
        packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0])
    }
  }
  for (const e of entries) visit(join(app, e))
  return packages
}

t.test("the image's start command, run with the image's ENV outside a container", async (tt) => {
  const app = runtimeTree(tt)
  // The other half of `npm run build`: the web client's bundle, into dist/web/.
  cpSync(await webBundle(), join(app, 'dist', 'web'), { recursive: true })
  tt.ok(cmd, 'a CMD to run')
  const [command, ...args] = cmd!
  tt.equal(command, 'node')
  const entries = [args[0], 'dist/scripts/migrate.js', 'dist/scripts/purge-expired.js', 'dist/scripts/create-user.js']
  for (const e of entries) tt.ok(existsSync(join(app, e)), `${e} is in the image`)

  // What `npm prune --omit=dev` keeps must be enough for the server and the operations commands.
  const deps = Object.keys(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).dependencies)
  const missing = [...importedPackages(app, entries)].filter((p) => !deps.includes(p))
  tt.same(missing, [], 'every package they import is a production dependency')

  const dataDir = join(tmpdir(), `signal-server-data-${randomBytes(6).toString('hex')}`)
  tt.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  const port = await freePort()
  // The image's ENV, with the volume's path and the port moved; production needs a real key and PUBLIC_URL.
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? tmpdir(),
    ...runtimeEnv,
    // This run's engine: the image's SQLite default on the volume, or PostgreSQL as compose sets it.
    DATABASE_URL:
      database === 'postgres'
        ? await freshPostgresUrl(tt)
        : runtimeEnv.DATABASE_URL.replace(/^\/data\//, `${dataDir}/`),
    PORT: String(port),
    SECRET_KEY: randomBytes(32).toString('hex'),
    // Production refuses to start without it, as the README's docker run passes it.
    PUBLIC_URL: 'https://signal.example.com',
    THROTTLE_ANON: 'off',
    BCRYPT_COST: '4',
    // Under `npm test`, trace (the server, and the commands, which read it but print only their
    // result lines): no assertion reads the server's output, only its stderr in failure messages.
    LOG_LEVEL: capturing ? 'trace' : 'warn',
  }
  // Under `npm test`, everything the server and the commands print goes to the capture directory,
  // and the secrets they are given or answer are recorded: the key here, passwords and tokens below.
  declareSource('spawned')
  recordSecret(env.SECRET_KEY, 'spawned')
  const log = spawnedLogStream(`image-server-${port}`)
  const server = spawn(command, args, { cwd: app, env, stdio: ['ignore', log ? 'pipe' : 'ignore', 'pipe'] })
  server.stdout?.on('data', (d) => log?.write(d))
  let stderr = ''
  server.stderr!.on('data', (d) => {
    stderr += d
    log?.write(d)
  })
  server.once('close', () => log?.end())
  const exited = new Promise<{ code: number | null; signal: string | null }>((ok) =>
    server.once('exit', (code, signal) => ok({ code, signal })),
  )
  tt.teardown(() => void (server.exitCode === null && server.signalCode === null && server.kill('SIGKILL')))

  const healthcheckLog = spawnedLogStream(`image-healthcheck-${port}`)
  tt.teardown(() => healthcheckLog?.end())
  const runHealthcheck = () => {
    const run = spawnSync(healthcheckCmd![0], healthcheckCmd!.slice(1), { env, encoding: 'utf8', timeout: 10_000 })
    healthcheckLog?.write(`${run.stdout ?? ''}${run.stderr ?? ''}`)
    return run.status
  }
  const base = `http://127.0.0.1:${port}`
  for (let i = 0; i < 100 && runHealthcheck() !== 0; i++) {
    if (server.exitCode !== null) break
    await new Promise((ok) => setTimeout(ok, 200))
  }
  tt.equal(runHealthcheck(), 0, `the HEALTHCHECK command passes once the server is up (stderr: ${stderr})`)
  // Every answer of the running image is checked against openapi.yaml, as the inject client's are.
  const live = await fetchChecked(tt, `${base}/health/live`)
  tt.equal(live.status, 200, '/health/live')
  const ready = await fetchChecked(tt, `${base}/health/ready`)
  tt.equal(ready.status, 200, '/health/ready')
  tt.same(ready.body, { status: 'ok', checks: { database: 'ok' } })
  // off-contract: the web client's page, outside the spec like /docs
  const page = await fetch(`${base}/`)
  tt.equal(page.status, 200, 'the image serves the web client at /')
  tt.match(page.headers.get('content-type'), /^text\/html/)
  if (database === 'sqlite')
    tt.ok(existsSync(env.DATABASE_URL), 'the SQLite database was created where DATABASE_URL points')

  // Sign-up reads the contract and the common-password list from where the image puts them. Its
  // password is not recorded: `password` is on that public list, no secret, and a word of log texts.
  const signUp = await fetchChecked(tt, `${base}/auth/users/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: uniqueEmail('image'), password: 'password' }),
  })
  tt.equal(signUp.status, 400, 'a common password is refused: the list was found')
  tt.match(signUp.text, /too common/)

  // The operations commands as the README says to run them in the container.
  const cli = (script: string, cliArgs: string[], extra: Record<string, string> = {}) => {
    const run = spawnSync('node', [`dist/scripts/${script}.js`, ...cliArgs], {
      cwd: app,
      env: { ...env, ...extra },
      encoding: 'utf8',
      timeout: 60_000,
    })
    const cliLog = spawnedLogStream(`image-${script}-${port}`)
    cliLog?.end(`${run.stdout ?? ''}${run.stderr ?? ''}`)
    return run
  }
  const status = cli('migrate', ['status'])
  tt.equal(status.status, 0, `migrate status (${status.stderr})`)
  tt.match(status.stdout, /pending: none/)
  const email = uniqueEmail('first')
  recordSecret(PASSWORD, 'spawned')
  const created = cli('create-user', ['--email', email], { NEW_USER_PASSWORD: PASSWORD })
  tt.equal(created.status, 0, `create-user (${created.stderr})`)
  const login = await fetchChecked(tt, `${base}/auth/login/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: PASSWORD }),
  })
  recordSecrets(login.body, true, 'spawned')
  tt.equal(login.status, 200, 'the created user logs in')
  const purged = cli('purge-expired', [])
  tt.equal(purged.status, 0, `purge-expired (${purged.stderr})`)

  server.kill('SIGTERM')
  tt.same(await exited, { code: 0, signal: null }, `SIGTERM: exit 0 (stderr: ${stderr})`)
  tt.not(runHealthcheck(), 0, 'the HEALTHCHECK command fails once the server is gone')
})
