import t, { type Test } from 'tap'
import { build } from '../helper.js'

// Without EMAIL_HOST, development prints mails (the console backend); production must not, since
// its standard output is a log that gets shipped and kept, and mails carry codes and reset links.

function captureStdout(tt: Test) {
  const written: string[] = []
  const write = process.stdout.write.bind(process.stdout)
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    written.push(String(chunk))
    return (write as (...a: unknown[]) => boolean)(chunk, ...rest)
  }) as typeof process.stdout.write
  tt.teardown(() => {
    process.stdout.write = write
  })
  return written
}

const mail = { to: 'alice@example.com', subject: 'Your code', text: 'Your code is 493817.' }

t.test('development without EMAIL_HOST prints the mail to standard output', async (tt) => {
  const { app } = await build(tt)
  const written = captureStdout(tt)
  await app.mailer.send(mail)
  tt.match(written.join(''), /Your code is 493817/)
})

t.test('production without EMAIL_HOST sends nothing and prints nothing of the mail', async (tt) => {
  const { app } = await build(tt, {
    nodeEnv: 'production',
    secretKey: 'Vb7q2LmX9pKd4RtZ8wYc3NfH6sJe1GuA0oQi5TzB',
    publicUrl: 'https://chat.example.com',
  })
  const written = captureStdout(tt)
  await app.mailer.send(mail)
  tt.notMatch(written.join(''), /493817/)
})
