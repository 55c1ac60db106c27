import type { Page } from 'playwright-core'
import { recordRequestSecrets, recordSecrets } from '../log-capture.js'
import { checkAgainstSpec } from '../spec-check.js'

// What the browser tests share: how Debian's chromium is started, and how a page is watched.

/** Headless, and nothing that reaches out of the machine on its own. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

export type WatchOptions = {
  /** The server's origin: requests elsewhere are not watched. */
  origin: string
  /** Where the page's problems go, each prefixed with `label` when given. */
  problems: string[]
  label?: string
  /** Paths whose answers are not API answers (pages, assets): not held to openapi.yaml. */
  notApi(path: string): boolean
  /** Console errors that are expected (Chromium logs every 4xx a script's fetch gets). */
  expectedConsoleError?(text: string): boolean
  /** Reading an answer can fail because its page closed meanwhile: not a problem then. */
  pagesMayClose?: boolean
}

/**
 * Watches a page as the suite watches every client: console errors (CSP violations among them) and
 * page errors are problems; what it sends to the server and is answered is recorded for the log
 * audit; every API answer is checked against openapi.yaml.
 */
export function watchPage(page: Page, opts: WatchOptions): void {
  const { origin, problems } = opts
  const prefix = opts.label ? `${opts.label} ` : ''
  page.on('console', (m) => {
    if (m.type() === 'error' && !opts.expectedConsoleError?.(m.text())) problems.push(`${prefix}console: ${m.text()}`)
  })
  page.on('pageerror', (e) => problems.push(`${prefix}page error: ${e.message}`))
  page.on('request', (req) => {
    const url = new URL(req.url())
    if (url.origin !== origin) return
    recordRequestSecrets(url.pathname, req.headers(), 'e2e')
    const form = req.headers()['content-type']?.startsWith('application/x-www-form-urlencoded')
    const data = req.postData()
    if (data) recordSecrets(form ? Object.fromEntries(new URLSearchParams(data)) : JSON.parse(data), false, 'e2e')
  })
  page.on('response', async (res) => {
    const url = new URL(res.url())
    if (url.origin !== origin || opts.notApi(url.pathname)) return
    try {
      const contentType = res.headers()['content-type'] ?? ''
      const text = res.status() === 204 ? '' : await res.text()
      const body = contentType.startsWith('application/json') ? JSON.parse(text) : text || undefined
      recordSecrets(body, true, 'e2e')
      const answer = { status: res.status(), contentType, body, headers: res.headers() }
      for (const p of checkAgainstSpec(res.request().method(), url.pathname, answer))
        problems.push(`${prefix}contract: ${p}`)
    } catch (err) {
      if (!(opts.pagesMayClose && /closed|Target/.test((err as Error).message)))
        problems.push(`${prefix}reading ${url.pathname}: ${(err as Error).message}`)
    }
  })
}
