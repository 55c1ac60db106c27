import fp from 'fastify-plugin'
import nodemailer, { type Transporter } from 'nodemailer'
import { readFileSync } from 'node:fs'
import type { Config } from '../lib/config.js'

const SMTP_CHECK_CACHE_MS = 10_000

/** A mail: plain text, and optionally the same as HTML (sent as multipart/alternative). */
type Mail = { to: string; subject: string; text: string; html?: string }

declare module 'fastify' {
  interface FastifyInstance {
    mailer: { send(mail: Mail): Promise<void> }
  }
}

function smtpTransport(c: Config): Transporter {
  const timeout = c.emailTimeout ? c.emailTimeout * 1000 : undefined
  return nodemailer.createTransport({
    host: c.emailHost,
    port: c.emailPort,
    secure: c.emailUseSsl,
    requireTLS: c.emailUseTls,
    ignoreTLS: !c.emailUseTls && !c.emailUseSsl,
    auth: c.emailHostUser ? { user: c.emailHostUser, pass: c.emailHostPassword ?? '' } : undefined,
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
    tls: {
      key: c.emailSslKeyfile ? readFileSync(c.emailSslKeyfile) : undefined,
      cert: c.emailSslCertfile ? readFileSync(c.emailSslCertfile) : undefined,
    },
  })
}

export default fp(
  async (app) => {
    const { config } = app
    if (!config.emailHost && config.nodeEnv === 'production') {
      // In production standard output is the log an operator ships and keeps: a code or reset link
      // printed there could be used by anyone who reads it. Mails are dropped instead.
      app.log.warn('EMAIL_HOST is not set: no email (2FA codes, reset links) will be sent')
      app.decorate('mailer', {
        async send() {
          app.log.error('an email was not sent: EMAIL_HOST is not set')
        },
      })
      return
    }
    if (!config.emailHost) {
      // Like Django's console backend: without EMAIL_HOST, development mails (codes and reset
      // links included) go to standard output, never to the structured request log.
      app.log.warn('EMAIL_HOST is not set: emails are printed to standard output, not sent')
      app.decorate('mailer', {
        async send(mail: Mail) {
          process.stdout.write(`\n--- email to ${mail.to}: ${mail.subject}\n${mail.text}\n---\n`)
        },
      })
      return
    }
    const transport = smtpTransport(config)
    app.addHook('onClose', async () => transport.close())
    // Readiness: the SMTP server accepts a session (and the login). Probes come every few seconds,
    // from every instance: one SMTP session per SMTP_CHECK_CACHE_MS at most, shared by concurrent probes.
    let verified: { at: number; result: Promise<unknown> } | undefined
    app.health.addCheck('smtp', () => {
      if (!verified || Date.now() - verified.at >= SMTP_CHECK_CACHE_MS)
        verified = { at: Date.now(), result: transport.verify() }
      return verified.result
    })
    app.decorate('mailer', {
      async send(mail: Mail) {
        const { to, subject, text, html } = mail
        await transport.sendMail({ from: config.fromEmail, to, subject, text, ...(html !== undefined && { html }) })
      },
    })
  },
  { name: 'mailer', dependencies: ['config', 'health'] },
)
