// biome-ignore-all lint/performance/useDomNodeTextContent: these are Playwright locators, not DOM nodes
// The web client (web/, served at / by plugins/web-client.ts) in a real browser (Debian's chromium,
// driven by playwright-core) against the real server: people sign up, chat both ways, log in from
// a second browser, remove a device, reload; every API answer is checked against openapi.yaml and
// any console error or CSP violation fails the test.
import t, { type Test } from 'tap'
import { type BrowserContext, chromium, type Page } from 'playwright-core'
import { buildWithMail, PASSWORD, signUp } from '../helper.js'
import { enableApp, fakeClock, totp } from '../mfa-helpers.js'
import { declareSource } from '../log-capture.js'
import { CHROMIUM, requires } from '../requirements.js'
import { webBundle } from '../web-bundle.js'
import { CHROMIUM_ARGS, watchPage } from './chromium.js'

const needsChromium = await requires('chromium')
// One browser for the file (starting it is the slow part); each person's browser is a context.
const browser = needsChromium.skip
  ? undefined
  : await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
t.teardown(() => browser?.close())

/** The server on a real port serving a freshly built client; `open` starts one person's browser. */
async function setUp(tt: Test) {
  const env = await buildWithMail(tt, { webClient: true, webClientDir: await webBundle() })
  const { app } = env
  const origin = await app.listen({ host: '127.0.0.1', port: 0 })
  declareSource('e2e')
  const problems: string[] = []
  const pages: Page[] = []

  /**
   * A new browser context (another browser, as far as the server and IndexedDB can tell) on the
   * client. Its API answers are checked against openapi.yaml and recorded for the log audit, as in
   * browser.test.ts; console errors (CSP violations among them) are collected.
   */
  const open = async (label: string): Promise<{ page: Page; context: BrowserContext }> => {
    const context = await browser!.newContext()
    tt.teardown(() => context.close())
    const page = await context.newPage()
    pages.push(page)
    watchPage(page, {
      origin,
      problems,
      label,
      notApi: (path) => path === '/' || path.startsWith('/app/'),
      // Chromium logs every answer >= 400 a script's fetch gets; 409 and 410 are the send loop's
      // expected answers (a device list out of date), which it mends. Anything else is a problem.
      expectedConsoleError: (text) => /status of 4(09|10) \(/.test(text),
      // A removed device's page may close while one of its answers is read.
      pagesMayClose: true,
    })
    const opened = await page.goto(origin)
    tt.equal(opened?.status(), 200, `${label}: / answers the client`)
    // The script has run and found out whether this browser is logged in (IndexedDB answers later).
    await page.locator('h1').waitFor()
    return { page, context }
  }
  const settled = async () => {
    for (const page of pages) await page.removeAllListeners(undefined, { behavior: 'wait' })
    return problems
  }
  return { ...env, origin, open, settled }
}

/** Signs up or logs in through the form, and waits until the chat is shown. */
async function enter(page: Page, email: string, button: 'Sign up' | 'Log in') {
  await page.getByLabel('Email', { exact: true }).fill(email)
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD)
  await page.getByRole('button', { name: button, exact: true }).click()
  await page.getByRole('button', { name: 'Log out' }).waitFor({ timeout: 30_000 })
}

const message = (page: Page, direction: 'in' | 'out', text: string) =>
  page.locator(`.messages li.${direction}`, { hasText: text })

/** Types a message with the keyboard alone (Enter sends) and waits until it shows as sent. */
async function send(page: Page, text: string) {
  await page.getByLabel('Message', { exact: true }).fill(text)
  await page.getByLabel('Message', { exact: true }).press('Enter')
  await message(page, 'out', text).waitFor({ timeout: 30_000 })
}

const openConversation = (page: Page, contact: string) =>
  page.getByRole('navigation', { name: 'Contacts' }).getByRole('button', { name: contact, exact: true }).click()

t.test(
  'two people chat in the web client, across devices, through a device removal and a reload',
  needsChromium,
  async (tt) => {
    const { open, settled } = await setUp(tt)
    const alice = 'alice@example.com'
    const bob = 'bob@example.com'

    const { page: alice1 } = await open('alice 1')
    tt.match(await alice1.locator('h1').innerText(), 'Encrypted chat')
    tt.equal(await alice1.locator('script:not([src])').count(), 0, 'no inline script')
    await enter(alice1, alice, 'Sign up')
    tt.match(await alice1.locator('header').innerText(), /device 1/, 'signed up, logged in and registered')
    const { page: bob1 } = await open('bob 1')
    await enter(bob1, bob, 'Sign up')

    // Alice adds Bob: his conversation opens at once, with the cursor in the message field.
    await alice1.getByLabel('Contact email').fill(bob)
    await alice1.getByRole('button', { name: 'Add contact' }).click()
    tt.equal(await alice1.locator('#conversation-title').innerText(), bob, "Bob's conversation opens")
    await send(alice1, 'Hello Bob, this is Alice')
    // Bob has not added Alice: her message brings her into his contacts.
    await openConversation(bob1, alice)
    await message(bob1, 'in', 'Hello Bob, this is Alice').waitFor()
    await send(bob1, 'Hi Alice! Got it.')
    await message(alice1, 'in', 'Hi Alice! Got it.').waitFor()
    tt.pass('messages go both ways')

    // Both see the same safety number once they have a session.
    const number = (page: Page) => page.locator('.safety code').innerText()
    await alice1.locator('.safety code').waitFor()
    tt.match(await number(alice1), /^(\d{5} ){11}\d{5}$/, 'a safety number of 60 digits')
    tt.equal(await number(bob1), await number(alice1), 'the same on both sides')

    // Alice logs in from a second browser: a second device of her account.
    const { page: alice2 } = await open('alice 2')
    await enter(alice2, alice, 'Log in')
    tt.match(await alice2.locator('header').innerText(), /device 2/, "Alice's second browser is her device 2")
    await alice1.getByRole('row', { name: /#2/ }).waitFor()
    tt.pass("Alice's first browser lists the new device (devices_changed)")
    // Bob's client knows only Alice's device 1: his send goes through a 409 that names device 2.
    await send(bob1, 'Alice, are you on two devices now?')
    await openConversation(alice2, bob)
    await message(alice2, 'in', 'Alice, are you on two devices now?').waitFor()
    await message(alice1, 'in', 'Alice, are you on two devices now?').waitFor()
    tt.pass('a new message from Bob reaches both of her devices')
    await send(alice1, 'Yes, writing from the first one')
    await message(alice2, 'out', 'Yes, writing from the first one').waitFor()
    await message(bob1, 'in', 'Yes, writing from the first one').waitFor()
    tt.pass('what she writes on one device shows on the other as hers')

    // Bob has three devices, then removes the third from his first; Alice's next send, made with
    // her list of his three devices, is refused with 409 (extraDevices: 3) and sent again.
    const { page: bob2 } = await open('bob 2')
    await enter(bob2, bob, 'Log in')
    const { page: bob3 } = await open('bob 3')
    await enter(bob3, bob, 'Log in')
    await send(alice1, 'Hello to all your devices, Bob')
    for (const page of [bob1, bob2, bob3]) {
      if (page !== bob1) await openConversation(page, alice)
      await message(page, 'in', 'Hello to all your devices, Bob').waitFor()
    }
    tt.pass('Alice reaches all three of his devices')
    const devices = bob1.getByRole('complementary', { name: 'Linked devices' })
    await devices.getByRole('row', { name: /#3/ }).waitFor()
    await devices.getByLabel('Password', { exact: true }).fill(PASSWORD)
    await devices
      .getByRole('row', { name: /#3/ })
      .getByRole('button', { name: /^Remove/ })
      .click()
    await devices.getByText('Device 3 removed.').waitFor()
    await bob3.getByText('This browser was removed from your account.').waitFor()
    tt.pass('the removed browser is told, and shows the login again')

    const statuses: number[] = []
    alice1.on('response', (res) => {
      const url = new URL(res.url())
      if (res.request().method() === 'PUT' && decodeURIComponent(url.pathname) === `/v2/messages/${bob}/`)
        statuses.push(res.status())
    })
    await send(alice1, 'After the removal')
    tt.same(statuses, [409, 200], 'the send met 409 mismatched_devices, dropped device 3 and was stored')
    await message(bob1, 'in', 'After the removal').waitFor()
    await message(bob2, 'in', 'After the removal').waitFor()
    tt.pass("and reaches Bob's remaining devices")

    // A reload keeps the login and the history.
    await bob1.reload()
    await openConversation(bob1, alice)
    const texts = await bob1.locator('.messages li .text').allInnerTexts()
    tt.same(
      texts,
      [
        'Hello Bob, this is Alice',
        'Hi Alice! Got it.',
        'Alice, are you on two devices now?',
        'Yes, writing from the first one',
        'Hello to all your devices, Bob',
        'After the removal',
      ],
      'after a reload Bob is still logged in and sees the whole conversation',
    )
    tt.same(await settled(), [], 'no console error, CSP violation or contract break')
  },
)

t.test(
  'with the keyboard alone: a login with the 2FA code step, a password reset request, log out',
  needsChromium,
  async (tt) => {
    const { api, smtp, open, settled } = await setUp(tt)
    const clock = fakeClock(tt)
    const user = await signUp(api, 'carol@example.com')
    const { secret } = await enableApp(api, user.token, clock)
    const { page } = await open('carol')

    // Tab from the top of the page: Email, Password, then Enter submits "Log in".
    await page.keyboard.press('Tab')
    await page.keyboard.type(user.email)
    await page.keyboard.press('Tab')
    await page.keyboard.type(PASSWORD)
    await page.keyboard.press('Enter')
    const code = page.getByLabel('Code', { exact: true })
    await code.waitFor()
    tt.ok(await code.evaluate((el) => el === document.activeElement), 'the Code field has the focus')
    await page.keyboard.type(await totp(secret))
    await page.keyboard.press('Enter')
    await page.getByRole('button', { name: 'Log out' }).waitFor({ timeout: 30_000 })
    const devices = await api.get('/v2/devices/', { token: user.token })
    tt.same(
      devices.body.devices.map((d: { name: string }) => d.name),
      ['Chrome on Linux'],
      'the login registered the browser as a device, named after it',
    )

    // Others claim bundles until fewer than a fifth of the 50 one-time prekeys are left; at its
    // next start (a reload) the client tops them up again.
    const { registrationId } = devices.body.devices[0]
    const count = async () => (await api.get(`/prekeys/${registrationId}/`, { token: user.token })).body.count as number
    tt.equal(await count(), 50, 'the device registered 50 one-time prekeys')
    const other = await signUp(api, 'dave@example.com')
    for (let i = 0; i < 41; i++) await api.get(`/v2/keys/${encodeURIComponent(user.email)}/1/`, { token: other.token })
    tt.equal(await count(), 9, 'nine left')
    await page.reload()
    await page.getByRole('button', { name: 'Log out' }).waitFor()
    for (let i = 0; i < 100 && (await count()) < 50; i++) await new Promise((r) => setTimeout(r, 100))
    tt.equal(await count(), 50, 'replenished after the reload, which kept the login')

    // A password change elsewhere ends the browser's login (its socket closes with 4401); logging in
    // again binds to the same device, keys and history.
    const newPassword = 'a-new-passphrase-for-carol-7'
    const changed = await api.post(
      '/auth/users/set_password/',
      { current_password: PASSWORD, new_password: newPassword },
      { token: user.token },
    )
    tt.ok(changed.status < 300, 'the password is changed through the API')
    await page.getByText('Your login ended: log in again.').waitFor()
    await page.getByLabel('Email', { exact: true }).fill(user.email)
    await page.getByLabel('Password', { exact: true }).fill(newPassword)
    await page.getByLabel('Password', { exact: true }).press('Enter')
    clock.advance(30) // a fresh TOTP step: each code is good once
    await page.getByLabel('Code', { exact: true }).waitFor()
    await page.keyboard.type(await totp(secret))
    await page.keyboard.press('Enter')
    await page.getByRole('button', { name: 'Log out' }).waitFor({ timeout: 30_000 })
    tt.match(await page.locator('header').innerText(), /device 1/, 'the same device as before')
    tt.equal((await api.get('/v2/devices/', { token: user.token })).body.devices.length, 1, 'and no new one')

    // The first control of the chat is "Log out": it unlinks the browser and shows the form again.
    await page.keyboard.press('Tab')
    tt.equal(await page.evaluate(() => document.activeElement?.textContent), 'Log out')
    await page.keyboard.press('Enter')
    await page.getByText('Logged out.').waitFor()
    tt.same((await api.get('/v2/devices/', { token: user.token })).body.devices, [], 'the device is gone')

    // A reset link, asked for from the same form.
    const before = smtp.mails.length
    await page.getByLabel('Email', { exact: true }).fill(user.email)
    await page.getByRole('button', { name: 'Forgot password' }).press('Enter')
    await page.getByText('a reset link is on its way').waitFor()
    tt.match((await smtp.next(user.email, before)).text, /\/auth\/password\/reset\/confirm\//, 'the link is mailed')
    tt.same(await settled(), [], 'no console error, CSP violation or contract break')
  },
)
