import { escapeHtml, page } from './reset-page.js'

// The page the emailed activation and email-change links open (<PUBLIC_URL>/auth/activate/<uid>/<token>/):
// the reset page's frame and style, no script. Opening it changes nothing; its button posts back.

export type AccountLinkPurpose = 'activation' | 'email-change'

const TITLES: Record<AccountLinkPurpose, { form: string; button: string; done: string; doneText: string }> = {
  activation: {
    form: 'Activate your account',
    button: 'Activate',
    done: 'Account activated',
    doneText: 'Your account is active. Log in from the app.',
  },
  'email-change': {
    form: 'Confirm your new email address',
    button: 'Confirm',
    done: 'Email address changed',
    doneText: 'This is now the email address of your account. Log in with it from now on.',
  },
}

export const accountLinkFormPage = (appName: string, purpose: AccountLinkPurpose) =>
  page(
    appName,
    TITLES[purpose].form,
    `<form method="post">
<input type="hidden" name="confirm" value="1">
<button type="submit">${TITLES[purpose].button}</button>
</form>`,
  )

export const accountLinkDonePage = (appName: string, purpose: AccountLinkPurpose) =>
  page(appName, TITLES[purpose].done, `<p class="ok">${TITLES[purpose].doneText}</p>`)

export const alreadyActivePage = (appName: string) =>
  page(appName, 'Account already active', '<p class="ok">Your account is already active. Log in from the app.</p>')

/** The link cannot be used; `why` says more when there is more to say. */
export const accountLinkInvalidPage = (
  appName: string,
  why = 'This link is invalid, was already used, or has expired. Ask the app for a new one.',
) => page(appName, 'Link invalid', `<p class="error">${escapeHtml(why)}</p>`)
