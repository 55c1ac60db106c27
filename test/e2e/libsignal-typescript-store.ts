import type {
  Direction,
  KeyPairType,
  SessionRecordType,
  StorageType,
} from '@privacyresearch/libsignal-protocol-typescript'

const equal = (a: ArrayBuffer, b: ArrayBuffer) => Buffer.from(a).equals(Buffer.from(b))

/** An in-memory store, as a client keeps in its own database; trust on first use. */
export class MemoryStore implements StorageType {
  private readonly identities = new Map<string, ArrayBuffer>()
  private readonly preKeys = new Map<string, KeyPairType>()
  private readonly signedPreKeys = new Map<string, KeyPairType>()
  private readonly sessions = new Map<string, SessionRecordType>()

  constructor(
    private readonly identity: KeyPairType,
    private readonly registrationId: number,
  ) {}

  async getIdentityKeyPair() {
    return this.identity
  }
  async getLocalRegistrationId() {
    return this.registrationId
  }
  async isTrustedIdentity(identifier: string, identityKey: ArrayBuffer, _direction: Direction) {
    const known = this.identities.get(identifier.split('.')[0])
    return known === undefined || equal(known, identityKey)
  }
  async saveIdentity(encodedAddress: string, publicKey: ArrayBuffer) {
    const name = encodedAddress.split('.')[0]
    const known = this.identities.get(name)
    this.identities.set(name, publicKey)
    return known !== undefined && !equal(known, publicKey)
  }
  async loadPreKey(keyId: string | number) {
    return this.preKeys.get(String(keyId))
  }
  async storePreKey(keyId: number | string, keyPair: KeyPairType) {
    this.preKeys.set(String(keyId), keyPair)
  }
  async removePreKey(keyId: number | string) {
    this.preKeys.delete(String(keyId))
  }
  async storeSession(encodedAddress: string, record: SessionRecordType) {
    this.sessions.set(encodedAddress, record)
  }
  async loadSession(encodedAddress: string) {
    return this.sessions.get(encodedAddress)
  }
  async loadSignedPreKey(keyId: number | string) {
    return this.signedPreKeys.get(String(keyId))
  }
  async storeSignedPreKey(keyId: number | string, keyPair: KeyPairType) {
    this.signedPreKeys.set(String(keyId), keyPair)
  }
  async removeSignedPreKey(keyId: number | string) {
    this.signedPreKeys.delete(String(keyId))
  }

  get preKeyCount() {
    return this.preKeys.size
  }
}
