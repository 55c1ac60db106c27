// `npm run create-user -- --email alice@example.com`: creates an account, e.g. the first one of a
// private deployment. The password comes from NEW_USER_PASSWORD or standard input, never from the
// command line (which other users of the machine can read in the process list). The same rules as
// sign-up apply: the contract's email and password schemas, the password policy and BCRYPT_COST.
import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormatsModule from 'ajv-formats'
import { migrateLatest } from '../db/connection.js'
import { isUniqueViolation } from '../db/dialect.js'
import { usersRepository } from '../db/users.js'
import { validatePassword } from '../lib/password-policy.js'
import { hashPassword } from '../lib/passwords.js'
import { spec } from '../lib/spec.js'
import { CliError, runCli } from './cli.js'

const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default

function parseArgs(argv: string[]): { email: string } {
  const [flag, email, ...rest] = argv
  const inline = flag?.startsWith('--email=') ? flag.slice('--email='.length) : undefined
  if (inline !== undefined && email === undefined) return { email: inline }
  if (flag !== '--email' || !email || rest.length)
    throw new CliError('usage: create-user --email <address> (password from NEW_USER_PASSWORD or standard input)')
  return { email }
}

/** The password from standard input: typed at a prompt without echo, or piped (first line). */
async function readPassword(): Promise<string> {
  const input = process.stdin
  if (!input.isTTY) {
    let text = ''
    for await (const chunk of input) text += chunk
    return text.split(/\r?\n/)[0]
  }
  process.stderr.write('Password: ')
  input.setRawMode(true)
  input.setEncoding('utf8')
  let typed = ''
  try {
    for await (const chunk of input) {
      for (const ch of chunk as string) {
        if (ch === '\r' || ch === '\n') return typed
        if (ch === '\u0003') throw new CliError('cancelled')
        typed = ch === '\u007f' || ch === '\b' ? typed.slice(0, -1) : typed + ch
      }
    }
    return typed
  } finally {
    input.setRawMode(false)
    input.pause()
    process.stderr.write('\n')
  }
}

const ajv = new Ajv2020({ strict: false, allErrors: true })
addFormats(ajv)
const schemas = spec.components.schemas

let email: string
try {
  // Before asking for a password: a typo in the command should not cost one.
  email = parseArgs(process.argv.slice(2)).email
  if (!ajv.validate(schemas.Email, email))
    throw new CliError(`--email: not a valid email address (${ajv.errorsText()})`)
} catch (err) {
  console.error(`create-user failed: ${(err as Error).message}`)
  process.exit(1)
}
const password = process.env.NEW_USER_PASSWORD ?? (await readPassword())

await runCli(
  'create-user',
  async (config, db) => {
    // A fresh deployment may run this before the server ever started.
    await migrateLatest(db)
    const hash = await hashPassword(password, config.bcryptCost)
    try {
      // One statement; the unique index, not a look-up first, refuses a taken email, so a server
      // writing at the same time cannot make it fail any other way.
      const user = await usersRepository(db).create(email, hash)
      console.log(`created user ${user.id} <${user.email}>`)
    } catch (err) {
      if (isUniqueViolation(err)) throw new CliError(`a user with the email ${email.toLowerCase()} already exists`)
      throw err
    }
  },
  () => {
    if (!ajv.validate(schemas.Password, password))
      throw new CliError(`password ${ajv.errorsText().replace(/^data /, '')}`)
    const problems = validatePassword(password, email)
    if (problems.length) throw new CliError(`password not allowed: ${problems.map((p) => p.message).join(' ')}`)
  },
)
