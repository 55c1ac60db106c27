// In-memory implementations of @signalapp/libsignal-client's store interfaces, as a real client
// keeps them (records persisted in serialized form), for the end-to-end conversation test.
import {
  IdentityChange,
  IdentityKeyStore,
  type KyberPreKeyRecord,
  KyberPreKeyStore,
  type PreKeyRecord,
  PreKeyStore,
  type PrivateKey,
  type ProtocolAddress,
  type PublicKey,
  SessionRecord,
  SessionStore,
  type SignedPreKeyRecord,
  SignedPreKeyStore,
} from '@signalapp/libsignal-client'

const key = (address: ProtocolAddress) => `${address.name()}.${address.deviceId()}`

function get<V>(map: Map<number, V>, id: number, what: string): V {
  const value = map.get(id)
  if (value === undefined) throw new Error(`no ${what} ${id}`)
  return value
}

export class MemorySessionStore extends SessionStore {
  private readonly sessions = new Map<string, Uint8Array<ArrayBuffer>>()

  async saveSession(address: ProtocolAddress, record: SessionRecord): Promise<void> {
    this.sessions.set(key(address), record.serialize())
  }

  async getSession(address: ProtocolAddress): Promise<SessionRecord | null> {
    const stored = this.sessions.get(key(address))
    return stored ? SessionRecord.deserialize(stored) : null
  }

  async getExistingSessions(addresses: ProtocolAddress[]): Promise<SessionRecord[]> {
    return Promise.all(
      addresses.map(async (a) => {
        const record = await this.getSession(a)
        if (!record) throw new Error(`no session for ${key(a)}`)
        return record
      }),
    )
  }
}

/** Trust on first use: a peer's identity key is accepted once, then must not change. */
export class MemoryIdentityStore extends IdentityKeyStore {
  private readonly known = new Map<string, PublicKey>()

  constructor(
    private readonly identity: PrivateKey,
    private readonly registrationId: number,
  ) {
    super()
  }

  async getIdentityKey(): Promise<PrivateKey> {
    return this.identity
  }

  async getLocalRegistrationId(): Promise<number> {
    return this.registrationId
  }

  async saveIdentity(address: ProtocolAddress, identity: PublicKey): Promise<IdentityChange> {
    const previous = this.known.get(key(address))
    this.known.set(key(address), identity)
    return previous && !previous.equals(identity) ? IdentityChange.ReplacedExisting : IdentityChange.NewOrUnchanged
  }

  async isTrustedIdentity(address: ProtocolAddress, identity: PublicKey): Promise<boolean> {
    const known = this.known.get(key(address))
    return !known || known.equals(identity)
  }

  async getIdentity(address: ProtocolAddress): Promise<PublicKey | null> {
    return this.known.get(key(address)) ?? null
  }
}

export class MemoryPreKeyStore extends PreKeyStore {
  readonly records = new Map<number, PreKeyRecord>()

  async savePreKey(id: number, record: PreKeyRecord): Promise<void> {
    this.records.set(id, record)
  }

  async getPreKey(id: number): Promise<PreKeyRecord> {
    return get(this.records, id, 'prekey')
  }

  async removePreKey(id: number): Promise<void> {
    this.records.delete(id)
  }
}

export class MemorySignedPreKeyStore extends SignedPreKeyStore {
  readonly records = new Map<number, SignedPreKeyRecord>()

  async saveSignedPreKey(id: number, record: SignedPreKeyRecord): Promise<void> {
    this.records.set(id, record)
  }

  async getSignedPreKey(id: number): Promise<SignedPreKeyRecord> {
    return get(this.records, id, 'signed prekey')
  }
}

/**
 * One-time Kyber prekeys are deleted once used; last-resort ones stay, but (as libsignal asks of
 * its stores) the same (signed prekey, base key) pair may not use one twice, which stops replays.
 */
export class MemoryKyberPreKeyStore extends KyberPreKeyStore {
  readonly records = new Map<number, KyberPreKeyRecord>()
  readonly lastResortIds = new Set<number>()
  private readonly seen = new Set<string>()

  async saveKyberPreKey(id: number, record: KyberPreKeyRecord): Promise<void> {
    this.records.set(id, record)
  }

  saveLastResort(record: KyberPreKeyRecord): void {
    this.records.set(record.id(), record)
    this.lastResortIds.add(record.id())
  }

  async getKyberPreKey(id: number): Promise<KyberPreKeyRecord> {
    return get(this.records, id, 'Kyber prekey')
  }

  async markKyberPreKeyUsed(id: number, signedPreKeyId: number, baseKey: PublicKey): Promise<void> {
    if (!this.lastResortIds.has(id)) {
      this.records.delete(id)
      return
    }
    const use = `${id}:${signedPreKeyId}:${Buffer.from(baseKey.serialize()).toString('base64')}`
    if (this.seen.has(use)) throw new Error(`last-resort Kyber prekey ${id} reused with the same base key`)
    this.seen.add(use)
  }
}
