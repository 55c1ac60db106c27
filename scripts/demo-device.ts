// `npx tsx scripts/demo-device.ts <address> <registrationId>`: prints a POST /device/ body with real,
// freshly generated libsignal keys (identity, signed prekey, two one-time prekeys, one Kyber
// prekey and a last-resort one), for trying the API by hand. The private keys are thrown away.
import { KEMKeyPair, PrivateKey } from '@signalapp/libsignal-client'

const [address, registrationId] = process.argv.slice(2)
if (!address || !/^\d+$/.test(registrationId ?? '')) {
  console.error('usage: demo-device.ts <address> <registrationId>')
  process.exit(1)
}
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64')
const identity = PrivateKey.generate()
const ec = () => b64(PrivateKey.generate().getPublicKey().serialize())
const signed = (publicKey: string) => ({ publicKey, signature: b64(identity.sign(Buffer.from(publicKey, 'base64'))) })
const kyber = () => signed(b64(KEMKeyPair.generate().getPublicKey().serialize()))

console.log(
  JSON.stringify({
    address,
    identityKey: b64(identity.getPublicKey().serialize()),
    registrationId: Number(registrationId),
    preKeys: [
      { keyId: 1, publicKey: ec() },
      { keyId: 2, publicKey: ec() },
    ],
    signedPreKey: { keyId: 1, ...signed(ec()) },
    pqPreKeys: [{ keyId: 1, ...kyber() }],
    pqLastResortPreKey: { keyId: 1000, ...kyber() },
  }),
)
