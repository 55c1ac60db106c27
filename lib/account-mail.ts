import { escapeHtml } from './reset-page.js'

// The account mails: plain text and the same in HTML. Links and addresses are escaped in the HTML.

export type AccountMail = { subject: string; text: string; html: string }

const paragraphs = (parts: string[]) => parts.map((p) => `<p>${p}</p>`).join('\n')
const linkHtml = (link: string) => `<a href="${escapeHtml(link)}">${escapeHtml(link)}</a>`
const hours = (seconds: number) =>
  seconds >= 7200 ? `${Math.round(seconds / 3600)} hours` : `${Math.round(seconds / 60)} minutes`

export function activationMail(appName: string, email: string, link: string, validSeconds: number): AccountMail {
  const intro = `Welcome to ${appName}. To activate the account ${email}, open:`
  const after = `The link expires in ${hours(validSeconds)}. If you did not sign up, ignore this email.`
  return {
    subject: `${appName}: activate your account`,
    text: `${intro}\n${link}\n\n${after}\n`,
    html: paragraphs([escapeHtml(intro), linkHtml(link), escapeHtml(after)]),
  }
}

export function emailChangeLinkMail(
  appName: string,
  newEmail: string,
  link: string,
  validSeconds: number,
): AccountMail {
  const intro = `Someone asked to make ${newEmail} the email address of a ${appName} account. To confirm, open:`
  const after =
    `The link works once and expires in ${hours(validSeconds)}. ` + 'If you did not ask for this, ignore this email.'
  return {
    subject: `${appName}: confirm your new email address`,
    text: `${intro}\n${link}\n\n${after}\n`,
    html: paragraphs([escapeHtml(intro), linkHtml(link), escapeHtml(after)]),
  }
}

export function emailChangedNotice(appName: string, oldEmail: string, newEmail: string, at: Date): AccountMail {
  const what =
    `The email address of your ${appName} account ${oldEmail} was changed to ${newEmail} ` + `at ${at.toISOString()}.`
  const after =
    'From now on, logins, password reset mails and codes use the new address. ' +
    'If you did not do this, your account may have been taken over: contact the operator of this server at once.'
  return {
    subject: `${appName}: your email address was changed`,
    text: `${what}\n\n${after}\n`,
    html: paragraphs([escapeHtml(what), escapeHtml(after)]),
  }
}
