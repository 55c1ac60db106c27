// The HTML the emailed reset link opens. Plain HTML forms, no scripts: it must work in any mail
// client's browser. Every interpolated value is escaped.

export const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)

/** The page's only style; the Content-Security-Policy allows exactly this block, by its hash. */
export const RESET_PAGE_STYLE = `
body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#1b1b1b}
label{display:block;margin:1rem 0 .25rem}input{width:100%;padding:.5rem;font-size:1rem;box-sizing:border-box}
button{margin-top:1.25rem;padding:.6rem 1.2rem;font-size:1rem}.error{color:#a00}.ok{color:#065}
`

/** A whole page: the title, the one style block, and `inner` (HTML the caller escaped). */
export function page(appName: string, title: string, inner: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)} · ${escapeHtml(appName)}</title>
<style>${RESET_PAGE_STYLE}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
${inner}
</body>
</html>
`
}

export function resetFormPage(appName: string, errors: string[] = []): string {
  const list = errors.length
    ? `<ul class="error" role="alert">${errors.map((e) => `<li>${escapeHtml(e)}</li>`).join('')}</ul>`
    : ''
  return page(
    appName,
    'Choose a new password',
    `${list}
<form method="post">
<label for="new_password">New password</label>
<input id="new_password" name="new_password" type="password" autocomplete="new-password" required minlength="8">
<label for="re_new_password">New password again</label>
<input id="re_new_password" name="re_new_password" type="password" autocomplete="new-password" required minlength="8">
<button type="submit">Set password</button>
</form>`,
  )
}

export const resetInvalidPage = (appName: string) =>
  page(
    appName,
    'Link invalid',
    '<p class="error">This password reset link is invalid, was already used, or has expired. ' +
      'Request a new one from the app.</p>',
  )

export const resetDonePage = (appName: string) =>
  page(
    appName,
    'Password changed',
    '<p class="ok">Your password was changed, and every device was logged out. Log in with the new password.</p>',
  )

/** The answer to a page request over THROTTLE_ANON: a person, not a program, reads it. */
export const throttledPage = (appName: string, waitSeconds: number) =>
  page(
    appName,
    'Too many attempts',
    `<p class="error" role="alert">Too many requests came from your network. Try again in ${
      waitSeconds < 120 ? `${waitSeconds} seconds` : `${Math.ceil(waitSeconds / 60)} minutes`
    }.</p>`,
  )

/** Any other refusal of a page request (say, a Host header not in ALLOWED_HOSTS), with the reason. */
export const refusedPage = (appName: string, reason: string) =>
  page(appName, 'Request refused', `<p class="error" role="alert">${escapeHtml(reason)}</p>`)
