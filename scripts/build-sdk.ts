// `npm run sdk`: builds the TypeScript SDK in sdk/ and packs it as sdk/signal-server-sdk-<version>.tgz,
// with openapi.yaml and asyncapi.yaml (the message socket) inside, ready for `npm install <tarball>`
// in a client project. Exits non-zero on failure.
import { execFileSync } from 'node:child_process'
import { copyFileSync, rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const sdk = fileURLToPath(new URL('../sdk/', import.meta.url))
try {
  execFileSync('npx', ['tsx', 'scripts/codegen.ts', '--check'], { stdio: 'inherit' })
  rmSync(`${sdk}dist`, { recursive: true, force: true })
  for (const doc of ['openapi.yaml', 'asyncapi.yaml'])
    copyFileSync(fileURLToPath(new URL(`../${doc}`, import.meta.url)), `${sdk}${doc}`)
  execFileSync('npx', ['tsc', '-p', `${sdk}tsconfig.json`], { stdio: 'inherit' })
  copyFileSync(`${sdk}schema.d.ts`, `${sdk}dist/schema.d.ts`) // tsc emits no copy of a .d.ts input
  const tarball = execFileSync('npm', ['pack', '--silent'], { cwd: sdk, encoding: 'utf8' }).trim().split('\n').pop()
  console.log(`sdk/${tarball}`)
} catch (err) {
  console.error(`building the SDK failed: ${(err as Error).message}`)
  process.exit(1)
}
