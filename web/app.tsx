// The user interface (Preact). It holds no protocol logic: sign-up and login are in session.ts, the
// send loop in send.ts, the receive loop in receive.ts, keys in keys.ts.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks'
import type { components } from '../sdk/index.js'
import * as db from './db.js'
import { startReceiving } from './receive.js'
import { safetyNumber } from './safety-number.js'
import { sendMessage } from './send.js'
import {
  type CodeNeeded,
  logIn,
  logInWithCode,
  logOut,
  requestPasswordReset,
  restore,
  type Session,
  signUp,
} from './session.js'
import { replenishPreKeys } from './keys.js'

type Device = components['schemas']['DeviceList']['devices'][number]

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err))

export function App() {
  const [session, setSession] = useState<Session | undefined>()
  const [loading, setLoading] = useState(true)
  const [notice, setNotice] = useState('')
  useEffect(() => {
    void restore().then((s) => {
      setSession(s)
      setLoading(false)
    })
  }, [])
  if (loading) return <p>Loading…</p>
  return session ? (
    <Chat
      session={session}
      onEnded={(why) => {
        setNotice(why)
        setSession(undefined)
      }}
    />
  ) : (
    <Welcome notice={notice} onSession={setSession} />
  )
}

/** Sign up, log in (with the 2FA code step) and the password reset request. */
function Welcome({ notice, onSession }: { notice: string; onSession: (s: Session) => void }) {
  const [email, setEmail] = useState('')
  const [password, setPassword] = useState('')
  const [code, setCode] = useState('')
  const [step, setStep] = useState<CodeNeeded | undefined>()
  const [status, setStatus] = useState(notice)
  const [busy, setBusy] = useState(false)
  const codeField = useRef<HTMLInputElement>(null)
  useEffect(() => codeField.current?.focus(), [step])

  const run = async (work: () => Promise<Session | CodeNeeded | string>) => {
    setBusy(true)
    setStatus('Working…')
    try {
      const result = await work()
      if (typeof result === 'string') setStatus(result)
      else if ('ephemeralToken' in result) {
        setStep(result)
        setStatus(result.method === 'email' ? 'A code was emailed to you.' : 'Enter the code from your app.')
      } else onSession(result)
    } catch (err) {
      setStatus(errorText(err))
    } finally {
      setBusy(false)
    }
  }

  if (step)
    return (
      <main class="welcome">
        <h1>Two-factor login</h1>
        <form
          onSubmit={(e) => {
            e.preventDefault()
            void run(() => logInWithCode(step, code))
          }}
        >
          <label for="code">Code</label>
          <input
            id="code"
            ref={codeField}
            autocomplete="one-time-code"
            inputMode="numeric"
            required
            value={code}
            onInput={(e) => setCode(value(e))}
          />
          <button type="submit" disabled={busy}>
            Log in
          </button>
        </form>
        <p role="status">{status}</p>
      </main>
    )
  return (
    <main class="welcome">
      <h1>Encrypted chat</h1>
      <p>Messages are encrypted in this browser with the Signal protocol; the server only relays them.</p>
      <form
        onSubmit={(e) => {
          e.preventDefault()
          void run(() => logIn(email, password))
        }}
      >
        <label for="email">Email</label>
        <input
          id="email"
          type="email"
          autocomplete="username"
          required
          value={email}
          onInput={(e) => setEmail(value(e))}
        />
        <label for="password">Password</label>
        <input
          id="password"
          type="password"
          autocomplete="current-password"
          required
          value={password}
          onInput={(e) => setPassword(value(e))}
        />
        <div class="buttons">
          <button type="submit" disabled={busy}>
            Log in
          </button>
          <button type="button" disabled={busy} onClick={() => void run(() => signUp(email, password))}>
            Sign up
          </button>
          <button
            type="button"
            class="link"
            disabled={busy}
            onClick={() =>
              void run(async () => {
                if (!email) return 'Enter your email first.'
                await requestPasswordReset(email)
                return 'If that email has an account, a reset link is on its way.'
              })
            }
          >
            Forgot password
          </button>
        </div>
      </form>
      <p role="status">{status}</p>
    </main>
  )
}

const value = (e: Event) => (e.currentTarget as HTMLInputElement).value

/** Logged in: contacts, the open conversation, and the account's devices. */
function Chat({ session, onEnded }: { session: Session; onEnded: (why: string) => void }) {
  const [contacts, setContacts] = useState<string[]>([])
  const [open, setOpen] = useState<string | undefined>()
  const [messages, setMessages] = useState<db.StoredMessage[]>([])
  const [devices, setDevices] = useState<Device[]>([])
  const [status, setStatus] = useState('')
  const openRef = useRef<string | undefined>(undefined)
  openRef.current = open
  const messageField = useRef<HTMLInputElement>(null)
  // The socket's off switch, and the latest onEnded, for the effect below that opens the socket once.
  const stopRef = useRef<() => void>(() => {})
  const endedRef = useRef(onEnded)
  endedRef.current = onEnded

  const refreshDevices = useCallback(async () => {
    const res = await session.api.GET('/v2/devices/')
    if (res.data) setDevices(res.data.devices)
    // A refused socket upgrade is invisible to a browser (it just reconnects): this request, made
    // at every start, is where an expired or revoked login shows.
    if (res.response.status === 401) {
      stopRef.current()
      endedRef.current('Your login ended: log in again.')
    }
  }, [session])

  const addContact = useCallback(async (email: string) => {
    const known = (await db.get<string[]>('state', 'contacts')) ?? []
    if (!known.includes(email)) await db.put('state', 'contacts', [...known, email])
    setContacts((now) => (now.includes(email) ? now : [...now, email]))
  }, [])

  useEffect(() => {
    void db.get<string[]>('state', 'contacts').then((c) => setContacts(c ?? []))
    void refreshDevices()
    void replenishPreKeys(session.api, session.device)
    const stop = startReceiving(session, {
      onMessage: (m) => {
        void addContact(m.contact)
        if (m.contact === openRef.current) setMessages((now) => [...now, m])
      },
      onDevicesChanged: () => void refreshDevices(),
      onClosed: (code) => {
        const why: Record<number, string> = {
          4401: 'Your login ended: log in again.',
          4404: 'This browser was removed from your account.',
          4409: 'The chat was opened in another tab of this browser.',
        }
        if (code === 4404) void db.wipe()
        endedRef.current(why[code] ?? `The connection closed (${code}).`)
      },
    })
    stopRef.current = stop
    return stop
  }, [session, refreshDevices, addContact])

  useEffect(() => {
    if (open) void db.messagesWith(open).then(setMessages)
  }, [open])

  const openConversation = (email: string) => {
    setOpen(email)
    setTimeout(() => messageField.current?.focus())
  }

  return (
    <div class="chat">
      <header>
        <p>
          <strong>{session.device.email}</strong> on this browser (device {session.device.deviceId})
        </p>
        <button
          type="button"
          onClick={() => {
            // Closed first: removing the device would otherwise end the socket with 4404 meanwhile.
            stopRef.current()
            void logOut(session).then(
              () => onEnded('Logged out. This browser is no longer a device of your account.'),
              (err) => setStatus(errorText(err)),
            )
          }}
        >
          Log out
        </button>
      </header>
      <nav aria-label="Contacts">
        <h2>Contacts</h2>
        <ul>
          {contacts.map((c) => (
            <li key={c}>
              <button type="button" aria-current={c === open} onClick={() => openConversation(c)}>
                {c}
              </button>
            </li>
          ))}
        </ul>
        <AddContact
          onAdd={async (email) => {
            // Your own other devices get every message as a sync already.
            if (email === session.device.email) return setStatus('That is your own account.')
            await addContact(email)
            openConversation(email)
          }}
        />
      </nav>
      <main>
        {open ? (
          <Conversation
            session={session}
            contact={open}
            ownDevices={devices.map((d) => d.deviceId)}
            messages={messages}
            messageField={messageField}
            onSent={() => void db.messagesWith(open).then(setMessages)}
            onError={setStatus}
          />
        ) : (
          <p>Choose a contact, or add one by email.</p>
        )}
        <p role="status">{status}</p>
      </main>
      <Devices session={session} devices={devices} onChanged={refreshDevices} />
    </div>
  )
}

function AddContact({ onAdd }: { onAdd: (email: string) => Promise<void> }) {
  const [email, setEmail] = useState('')
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault()
        void onAdd(email.trim().toLowerCase()).then(() => setEmail(''))
      }}
    >
      <label for="contact-email">Contact email</label>
      <input id="contact-email" type="email" required value={email} onInput={(e) => setEmail(value(e))} />
      <button type="submit">Add contact</button>
    </form>
  )
}

function Conversation(props: {
  session: Session
  contact: string
  ownDevices: number[]
  messages: db.StoredMessage[]
  messageField: { current: HTMLInputElement | null }
  onSent: () => void
  onError: (text: string) => void
}) {
  const { session, contact, messages } = props
  const [text, setText] = useState('')
  const [sending, setSending] = useState(false)
  const [fingerprint, setFingerprint] = useState<string | undefined>()
  useEffect(() => {
    void safetyNumber(session, contact).then(setFingerprint)
  }, [session, contact, messages.length])

  const send = async () => {
    setSending(true)
    props.onError('')
    try {
      await sendMessage(session, contact, text, props.ownDevices)
      setText('')
      props.onSent()
    } catch (err) {
      props.onError(`Not sent: ${errorText(err)}`)
    } finally {
      setSending(false)
      props.messageField.current?.focus()
    }
  }

  return (
    <section aria-labelledby="conversation-title">
      <h2 id="conversation-title">{contact}</h2>
      <p class="safety">
        Safety number: {fingerprint ? <code>{fingerprint}</code> : 'shown once you have exchanged a message'}
      </p>
      <ol class="messages" aria-live="polite">
        {messages.map((m) => (
          <li key={m.seq} class={m.direction}>
            <span class="who">{m.direction === 'out' ? 'You' : contact}</span>
            <span class="text">{m.text}</span>
            <time dateTime={new Date(m.timestamp).toISOString()}>{new Date(m.timestamp).toLocaleTimeString()}</time>
          </li>
        ))}
      </ol>
      <form
        class="compose"
        onSubmit={(e) => {
          e.preventDefault()
          if (text.trim()) void send()
        }}
      >
        <label for="message">Message</label>
        <input
          id="message"
          ref={props.messageField}
          autocomplete="off"
          value={text}
          onInput={(e) => setText(value(e))}
        />
        <button type="submit" disabled={sending}>
          Send
        </button>
      </form>
    </section>
  )
}

/** "Linked devices": the account's devices; removing another one asks for the password. */
function Devices(props: { session: Session; devices: Device[]; onChanged: () => Promise<void> }) {
  const [password, setPassword] = useState('')
  const [status, setStatus] = useState('')
  const day = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleDateString() : '—')

  const remove = async (deviceId: number) => {
    if (!password) return setStatus('Enter your password to remove a device.')
    const res = await props.session.api.DELETE('/v2/devices/{deviceId}/', {
      params: { path: { deviceId } },
      body: { currentPassword: password },
    })
    setPassword('')
    setStatus(res.response.ok ? `Device ${deviceId} removed.` : (res.error?.message ?? 'Not removed.'))
    await props.onChanged()
  }

  return (
    <aside aria-labelledby="devices-title">
      <h2 id="devices-title">Linked devices</h2>
      <table>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Created</th>
            <th scope="col">Last seen</th>
            <th scope="col">
              <span class="visually-hidden">Action</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {props.devices.map((d) => (
            <tr key={d.deviceId}>
              <td>
                {d.name ?? `Device ${d.deviceId}`} <small>#{d.deviceId}</small>
              </td>
              <td>{day(d.created)}</td>
              <td>{day(d.lastSeen)}</td>
              <td>
                {d.deviceId === props.session.device.deviceId ? (
                  'this browser'
                ) : (
                  <button
                    type="button"
                    aria-label={`Remove ${d.name ?? 'device'} #${d.deviceId}`}
                    onClick={() => void remove(d.deviceId)}
                  >
                    Remove
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <label for="remove-password">Password</label>
      <input
        id="remove-password"
        type="password"
        autocomplete="current-password"
        value={password}
        onInput={(e) => setPassword(value(e))}
      />
      <p class="hint">Removing a device asks for your password.</p>
      <p role="status">{status}</p>
    </aside>
  )
}
