// temporary diagnostic, not a test (no .test.ts suffix)
import { buildApp } from '../../app.js'
import { loadConfig } from '../../plugins/config.js'
import { client, userWithDevice, preKeys, database, freshPostgresUrl } from '../helper.js'
const t = { teardown() {}, fail(m: string) {} }
const file = database === 'postgres' ? await freshPostgresUrl(t) : `/tmp/diag/db-${Date.now()}.sqlite`
const config = loadConfig({}, { databaseUrl: file, secretKey: 'test-secret-key-that-is-long-enough-0123456789', bcryptCost: 4, throttleAnon: 'off', throttleUser: 'off', throttlePrekeybundle: 'off', logLevel: 'error', maxPrekeys: 1000 })
const errs: string[] = []
const mk = async () => { const a = await buildApp(config, { logger: false }); a.addHook('onError', async (_req, _rep, err: any) => { errs.push(`${err.code} ${err.message}`) }); return a }
const a1 = await mk(), a2 = await mk()
const apis = [client(a1, t), client(a2, t)]
const alice = await userWithDevice(apis[0], { preKeyCount: 0 })
const t0 = Date.now()
const bob = await userWithDevice(apis[0], { preKeyCount: 60 })
let del: any
const cl = Array.from({ length: 100 }, (_, i) => { if (i === 20) del = apis[1].delete('/device/', undefined, { token: bob.token }); return apis[i % 2].get(`/prekeybundle/${encodeURIComponent(bob.email)}/${alice.registrationId}/`, { token: alice.token }) })
const res = [...await Promise.all(cl), await del]
console.log(Date.now() - t0, 'ms', res.map((r) => r.status).join(' '))
console.log(errs.map(e=>e.slice(0,200)))
await a1.close(); await a2.close()
