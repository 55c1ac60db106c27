// `npm run screenshots`: the README's pictures of the web client, taken from the real thing. Starts
// the server from source on a throwaway SQLite database with a freshly built bundle, has Alice and
// Bob sign up and chat in Debian's chromium (playwright-core; no browser is downloaded), Alice log
// in from a second browser, and writes docs/web-client-chat.png and docs/web-client-devices.png.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type Page } from 'playwright-core'
import { buildWeb } from './build-web.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const work = mkdtempSync(join(tmpdir(), 'web-client-screenshots-'))
const port = 18000 + Math.floor(Math.random() * 1000)
const origin = `http://127.0.0.1:${port}`
const password = 'a-screenshot-passphrase-42'

await buildWeb(join(work, 'web'), true)
const server = spawn(process.execPath, ['--import', 'tsx', join(root, 'server.ts')], {
  cwd: root,
  env: {
    ...process.env,
    PORT: String(port),
    DATABASE_URL: join(work, 'db.sqlite'),
    SECRET_KEY: 'screenshots-only-key-0123456789-abcdefghijklmnop',
    WEB_CLIENT_DIR: join(work, 'web'),
    THROTTLE_ANON: 'off',
    THROTTLE_PREKEYBUNDLE: 'off',
    BCRYPT_COST: '4',
    LOG_LEVEL: 'warn',
  },
  stdio: ['ignore', 'ignore', 'inherit'],
})
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox'] })

try {
  for (let i = 0; ; i++) {
    const up = await fetch(`${origin}/health/live`).then(
      (r) => r.ok,
      () => false,
    )
    if (up) break
    if (i > 200) throw new Error('the server did not start')
    await new Promise((r) => setTimeout(r, 100))
  }
  const person = async (email: string, button: 'Sign up' | 'Log in') => {
    const context = await browser.newContext({ viewport: { width: 1200, height: 640 }, colorScheme: 'light' })
    const page = await context.newPage()
    await page.goto(origin)
    await page.getByLabel('Email', { exact: true }).fill(email)
    await page.getByLabel('Password', { exact: true }).fill(password)
    await page.getByRole('button', { name: button, exact: true }).click()
    await page.getByRole('button', { name: 'Log out' }).waitFor({ timeout: 30_000 })
    return page
  }
  const send = async (page: Page, text: string) => {
    await page.getByLabel('Message', { exact: true }).fill(text)
    await page.getByLabel('Message', { exact: true }).press('Enter')
    await page.locator('.messages li.out', { hasText: text }).waitFor()
  }
  const alice = await person('alice@example.com', 'Sign up')
  const bob = await person('bob@example.com', 'Sign up')
  await alice.getByLabel('Contact email').fill('bob@example.com')
  await alice.getByRole('button', { name: 'Add contact' }).click()
  await send(alice, 'Hi Bob! This is end-to-end encrypted: the server only sees ciphertext.')
  await bob.getByRole('button', { name: 'alice@example.com', exact: true }).click()
  await send(bob, 'Hi Alice, got it. Shall we compare safety numbers?')
  await alice.locator('.messages li.in').waitFor()
  await send(alice, 'Yes, on our call later.')
  await person('alice@example.com', 'Log in') // her second device
  await alice.getByRole('row', { name: /#2/ }).waitFor()
  await alice.locator('.safety code').waitFor()
  await alice.screenshot({ path: join(root, 'docs', 'web-client-chat.png') })
  await alice
    .getByRole('complementary', { name: 'Linked devices' })
    .screenshot({ path: join(root, 'docs', 'web-client-devices.png') })
  console.log('wrote docs/web-client-chat.png and docs/web-client-devices.png')
} finally {
  await browser.close()
  server.kill('SIGTERM')
  await new Promise((r) => server.once('exit', r))
  rmSync(work, { recursive: true, force: true })
}
