// Everything this browser keeps lives in one IndexedDB database, and nothing of it is sent anywhere
// but the public keys: the private keys, the sessions, the login and the history. "Log out"
// deletes the whole database (session.ts).
//
//   state     key -> value: the login (token, deviceId), this device's identity and registration ID,
//             the contacts, and the server ids of messages already stored (to drop a redelivery)
//   protocol  key -> value: prekeys, signed prekeys, sessions and the identity keys of other devices
//   messages  the history, one record per message, in arrival order, indexed by contact

const NAME = 'signal-web'
type StoreName = 'state' | 'protocol' | 'messages'

let opening: Promise<IDBDatabase> | undefined

const done = <T>(request: IDBRequest<T>) =>
  new Promise<T>((resolve, reject) => {
    request.onsuccess = () => resolve(request.result)
    request.onerror = () => reject(request.error)
  })

function open(): Promise<IDBDatabase> {
  opening ??= new Promise((resolve, reject) => {
    const request = indexedDB.open(NAME, 1)
    request.onupgradeneeded = () => {
      const db = request.result
      db.createObjectStore('state')
      db.createObjectStore('protocol')
      db.createObjectStore('messages', { keyPath: 'seq', autoIncrement: true }).createIndex('contact', 'contact')
    }
    request.onsuccess = () => resolve(request.result)
    request.onerror = () => reject(request.error)
  })
  return opening
}

async function store(name: StoreName, mode: IDBTransactionMode) {
  return (await open()).transaction(name, mode).objectStore(name)
}

export async function get<T>(name: 'state' | 'protocol', key: string): Promise<T | undefined> {
  return done((await store(name, 'readonly')).get(key)) as Promise<T | undefined>
}

export async function put(name: 'state' | 'protocol', key: string, value: unknown): Promise<void> {
  await done((await store(name, 'readwrite')).put(value, key))
}

export async function remove(name: 'state' | 'protocol', key: string): Promise<void> {
  await done((await store(name, 'readwrite')).delete(key))
}

/** One message of the history. `contact` is the other person's email, whoever wrote it. */
export type StoredMessage = {
  seq?: number
  contact: string
  /** 'out': written by this account (on this device or, arrived as a sync, on another one). */
  direction: 'in' | 'out'
  text: string
  /** The sender's clock, in milliseconds. */
  timestamp: number
  /** Which device of the sender wrote it. */
  senderDeviceId?: number
}

export async function addMessage(message: StoredMessage): Promise<StoredMessage> {
  const seq = await done((await store('messages', 'readwrite')).add(message))
  return { ...message, seq: Number(seq) }
}

export async function messagesWith(contact: string): Promise<StoredMessage[]> {
  const index = (await store('messages', 'readonly')).index('contact')
  return done(index.getAll(contact)) as Promise<StoredMessage[]>
}

/** Deletes the whole database: keys, sessions, login and history. */
export async function wipe(): Promise<void> {
  const db = await opening
  db?.close()
  opening = undefined
  await done(indexedDB.deleteDatabase(NAME))
}
