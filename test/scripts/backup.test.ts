// `npm run backup -- --out <file>` as an operator runs it next to a live server: on SQLite a
// consistent, checked copy taken during a burst of sends, on which a server starts with every
// message acknowledged before the backup began; on PostgreSQL a plain pointer to pg_dump, exit 2.
import { existsSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import t from 'tap'
import { buildApp } from '../../app.js'
import { loadConfig } from '../../lib/config.js'
import { build, ciphertext, client, database, userWithDevice } from '../helper.js'
import { lines, runScript } from './run-script.js'

const backup = (databaseUrl: string, args: string[]) => runScript('backup.ts', args, { DATABASE_URL: databaseUrl })

function outFile(tt: { teardown(fn: () => void): void }) {
  const file = join(tmpdir(), `signal-server-backup-${randomBytes(6).toString('hex')}.sqlite`)
  tt.teardown(() => {
    for (const s of ['', '-wal', '-shm', '-journal']) rmSync(file + s, { force: true })
  })
  return file
}

if (database === 'sqlite') {
  t.test('a copy taken during a burst of sends starts a server with every message acknowledged before', async (tt) => {
    const { api, config } = await build(tt, { messagePurgeInterval: 0 })
    const alice = await userWithDevice(api)
    const bob = await userWithDevice(api)
    const send = async () => {
      const res = await api.post(
        `/messages/${alice.registrationId}/`,
        { recipient: bob.email, message: ciphertext(bob.registrationId) },
        { token: alice.token },
      )
      if (res.status !== 201) throw new Error(`send: ${res.status} ${res.text}`)
      return res.body.id as number
    }
    const before: number[] = []
    for (let i = 0; i < 50; i++) before.push(await send())

    // Four senders keep going while the backup runs.
    let running = true
    const during: number[] = []
    const senders = Array.from({ length: 4 }, async () => {
      while (running) during.push(await send())
    })
    const out = outFile(tt)
    const res = await backup(config.databaseUrl, ['--out', out]).finally(() => (running = false))
    await Promise.all(senders)
    tt.equal(res.code, 0, `exit 0 (${res.stderr})`)
    tt.match(lines(res.stdout), [/^backed up .+ to .+ \(\d+ pages; integrity_check ok\)$/])
    tt.equal(res.stderr, '')
    tt.ok(during.length > 0, `sends went on during the backup (${during.length})`)
    tt.ok(existsSync(out), 'the copy is there')
    tt.notOk(existsSync(`${out}-wal`), 'in one file, no WAL beside it')

    // A server on the copy: starts (migrations current), and has every message acknowledged before.
    const copyConfig = loadConfig({}, { ...config, databaseUrl: out })
    const restored = await buildApp(copyConfig, { logger: false })
    tt.teardown(() => restored.close())
    await restored.ready()
    const restoredApi = client(restored, tt)
    const queue = await restoredApi.get(`/messages/${bob.registrationId}/`, { token: bob.token })
    tt.equal(queue.status, 200, "Bob's token and queue work on the copy")
    const ids = new Set(queue.body.map((m: { id: number }) => m.id))
    tt.same(
      before.filter((id) => !ids.has(id)),
      [],
      `all ${before.length} messages acknowledged before the backup are in the copy`,
    )
    tt.ok(ids.size <= before.length + during.length, 'and nothing that was never sent')
  })

  t.test('failures exit 1 with one line and leave no file', async (tt) => {
    const { config } = await build(tt)
    const existing = outFile(tt)
    const first = await backup(config.databaseUrl, ['--out', existing])
    tt.equal(first.code, 0)
    const missingDb = join(tmpdir(), `signal-server-none-${randomBytes(6).toString('hex')}.sqlite`)
    const target = outFile(tt)
    const cases: [string, string, string[], RegExp][] = [
      ['no --out', config.databaseUrl, [], /^backup failed: usage: backup --out <file>/],
      ['an unknown argument', config.databaseUrl, ['--to', target], /^backup failed: usage: /],
      ['an existing file', config.databaseUrl, ['--out', existing], /^backup failed: .* exists; not overwriting it$/],
      ['no database', missingDb, ['--out', target], /^backup failed: no database at /],
    ]
    for (const [what, url, args, message] of cases) {
      const res = await backup(url, args)
      tt.equal(res.code, 1, `${what}: exit 1`)
      tt.match(lines(res.stderr), [message], what)
      tt.equal(res.stdout, '')
    }
    tt.notOk(existsSync(target), 'no copy was left behind')
    tt.notOk(existsSync(missingDb), 'and no database was created')
  })
}

if (database === 'postgres') {
  t.test('on PostgreSQL it says to use pg_dump and exits 2', async (tt) => {
    const { config } = await build(tt)
    const out = outFile(tt)
    const res = await backup(config.databaseUrl, ['--out', out])
    tt.equal(res.code, 2)
    const errLines = lines(res.stderr)
    tt.equal(errLines.length, 1, `one line (${res.stderr})`)
    tt.match(errLines[0], /PostgreSQL.*use pg_dump/)
    tt.equal(res.stdout, '')
    tt.notOk(existsSync(out), 'nothing written')
  })
}
