// biome-ignore-all lint/performance/useDomNodeTextContent: these are Playwright locators, not DOM nodes
// A real browser (Debian's chromium, driven by playwright-core; never a downloaded browser) against
// the real server: the API docs page renders every operation, a password reset works from the
// emailed link to the next login, and so does an account activation (EMAIL_VERIFICATION=on).
import t from 'tap'
import { chromium, type Page } from 'playwright-core'
import { buildWithMail, freePort, signUp } from '../helper.js'
import { declareSource, recordRequestSecrets, recordSecrets } from '../log-capture.js'
import { CHROMIUM, requires } from '../requirements.js'
import { CHROMIUM_ARGS, watchPage } from './chromium.js'
import { operations } from '../../lib/spec.js'

type T = Parameters<typeof buildWithMail>[0]

// Without chromium (and outside CI) both tests are skipped, saying how to get it.
const needsChromium = await requires('chromium')
// One browser for the file (starting it is the slow part); each test gets a fresh context.
const browser = needsChromium.skip
  ? undefined
  : await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
t.teardown(() => browser?.close())

/**
 * The server on a real port with a real SMTP server behind it, and a fresh browser context. What
 * the browser is answered on API paths is checked against openapi.yaml like every other answer;
 * any console error (a CSP violation, a failed asset) is collected for the test to refuse. What it
 * sends and is answered there is recorded for the log audit. `settled()` stops listening and waits
 * for the answers still being read, so that nothing is added to `problems` once the test reads it.
 */
async function setUp(tt: T, overrides: Parameters<typeof buildWithMail>[1] = {}) {
  const port = await freePort()
  const origin = `http://127.0.0.1:${port}`
  const env = await buildWithMail(tt, { publicUrl: origin, ...overrides })
  await env.app.listen({ host: '127.0.0.1', port })
  declareSource('e2e')
  const context = await browser!.newContext()
  tt.teardown(() => context.close())
  const page: Page = await context.newPage()
  const problems: string[] = []
  watchPage(page, { origin, problems, notApi: (path) => path.startsWith('/docs') })
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`))
  const settled = async () => {
    await page.removeAllListeners(undefined, { behavior: 'wait' })
    return problems
  }
  return { ...env, origin, page, settled }
}

t.test(
  'GET /docs renders every operation of openapi.yaml, under its Content-Security-Policy',
  needsChromium,
  async (tt) => {
    const { origin, page, settled } = await setUp(tt)
    const res = await page.goto(`${origin}/docs`)
    tt.equal(res?.status(), 200)
    tt.match(res?.headers()['content-security-policy'], /default-src 'none'/, 'the policy is on')
    // Swagger UI renders a block per operation and tag (an operation with two tags shows twice) once
    // it has fetched and parsed the spec.
    await page
      .locator('.opblock')
      .nth(operations.size - 1)
      .waitFor({ timeout: 20_000 })
    const shown = new Set((await page.locator('.opblock-summary-operation-id').allInnerTexts()).map((s) => s.trim()))
    tt.same([...shown].sort(), [...operations.keys()].sort(), 'every operation, by its operationId')
    const send = page.locator('.opblock', {
      has: page.locator('.opblock-summary-operation-id', { hasText: /^sendMessage$/ }),
    })
    tt.match(await send.locator('.opblock-summary-path').innerText(), '/messages/{registrationId}/', 'with its path')
    tt.match(await send.locator('.opblock-summary-method').innerText(), 'POST', 'and method')
    tt.same(await settled(), [], 'no console error, failed request or CSP violation')
  },
)

t.test(
  'a password reset from the emailed link, in the browser, then login with the new password',
  needsChromium,
  async (tt) => {
    const { api, smtp, origin, page, settled } = await setUp(tt)
    const user = await signUp(api)
    const before = smtp.mails.length
    tt.equal((await api.post('/auth/password/reset/', { email: user.email })).status, 204, 'reset requested')
    const mail = await smtp.next(user.email, before)
    const link = /https?:\/\/\S+\/auth\/password\/reset\/confirm\/\S+\//.exec(mail.text)?.[0]
    tt.ok(link, 'the email carries a reset link')
    tt.ok(link!.startsWith(`${origin}/`), 'to this server (PUBLIC_URL)')
    recordRequestSecrets(new URL(link!).pathname, {}, 'e2e')

    const opened = await page.goto(link!)
    tt.equal(opened?.status(), 200, 'the link opens the form')
    tt.equal(await page.locator('h1').innerText(), 'Choose a new password')
    const newPassword = 'a-brand-new-passphrase-42'
    recordSecrets({ new_password: newPassword }, false, 'e2e')
    await page.fill('#new_password', newPassword)
    await page.fill('#re_new_password', newPassword)
    const [submitted] = await Promise.all([
      page.waitForNavigation(),
      page.getByRole('button', { name: 'Set password' }).click(),
    ])
    tt.equal(submitted?.status(), 200, 'the form is accepted')
    tt.equal(await page.locator('h1').innerText(), 'Password changed')
    tt.match(await page.locator('p.ok').innerText(), /Log in with the new password/)

    const login = await api.post('/auth/login/', { email: user.email, password: newPassword })
    tt.equal(login.status, 200, 'the new password logs in')
    tt.ok(login.body.auth_token, 'with a token')
    const old = await api.post('/auth/login/', { email: user.email, password: user.password })
    tt.equal(old.status, 400, 'the old password does not')
    tt.equal(old.body.code, 'invalid_credentials')
    tt.equal((await api.get('/auth/users/me/', { token: user.token })).status, 401, 'and the old session is gone')

    // A used link is refused with a 400 page; Chromium logs any 4xx document it loads as a failed
    // resource, and that line is the only one allowed.
    const again = await page.goto(link!)
    tt.equal(again?.status(), 400, 'the used link is refused')
    tt.equal(await page.locator('h1').innerText(), 'Link invalid', 'the link works once')
    tt.same(
      await settled(),
      ['console: Failed to load resource: the server responded with a status of 400 (Bad Request)'],
      'no other console error, failed request, CSP violation or contract break',
    )
  },
)

t.test(
  'email verification in the browser: sign up, open the mailed link, activate, log in',
  needsChromium,
  async (tt) => {
    const { api, smtp, origin, page, settled } = await setUp(tt, { emailVerification: 'on' })
    const email = 'new.user@example.com'
    const password = 'a-fresh-account-passphrase-7'
    const signedUp = await api.post('/auth/users/', { email, password })
    tt.equal(signedUp.status, 201, 'signed up')
    const refused = await api.post('/auth/login/', { email, password })
    tt.equal(refused.body.code, 'inactive_account', 'no login before the link is opened')
    const mail = await smtp.next(email, 0)
    const link = /https?:\/\/\S+\/auth\/activate\/[^/\s]+\/[^/\s]+\//.exec(mail.text)?.[0]
    tt.ok(link, 'the email carries an activation link')
    tt.ok(link!.startsWith(`${origin}/`), 'to this server (PUBLIC_URL)')
    recordRequestSecrets(new URL(link!).pathname, {}, 'e2e')

    const opened = await page.goto(link!)
    tt.equal(opened?.status(), 200, 'the link opens the page')
    tt.match(opened?.headers()['content-security-policy'], /default-src 'none'/, 'under the strict policy')
    tt.equal(await page.locator('h1').innerText(), 'Activate your account')
    tt.equal(await page.locator('script').count(), 0, 'no script')
    tt.equal(
      (await api.post('/auth/login/', { email, password })).body.code,
      'inactive_account',
      'opening is not enough',
    )
    const [submitted] = await Promise.all([
      page.waitForNavigation(),
      page.getByRole('button', { name: 'Activate' }).click(),
    ])
    tt.equal(submitted?.status(), 200, 'the button is accepted')
    tt.equal(await page.locator('h1').innerText(), 'Account activated')

    const login = await api.post('/auth/login/', { email, password })
    tt.equal(login.status, 200, 'the account logs in')
    tt.ok(login.body.auth_token, 'with a token')
    const again = await page.goto(link!)
    tt.equal(await page.locator('h1').innerText(), 'Account already active', 'the link has done its work')
    tt.equal(again?.status(), 200)
    tt.same(await settled(), [], 'no console error, failed request, CSP violation or contract break')
  },
)
