import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'

const VERSION = 'v1:'
/** How every sealed value starts; a stored value without it is from before encryption existed. */
export const SEALED_PREFIX = VERSION

/**
 * Encrypts small secrets for storage (AES-256-GCM) under a key derived from SECRET_KEY with HKDF,
 * one key per `purpose`. A stolen database alone does not give the secrets away; changing
 * SECRET_KEY makes stored ones unreadable, which `open` reports as undefined.
 */
export function secretBox(secretKey: string, purpose: string) {
  const key = Buffer.from(hkdfSync('sha256', secretKey, Buffer.alloc(0), `signal-server/${purpose}`, 32))
  return {
    seal(plain: string): string {
      const iv = randomBytes(12)
      const cipher = createCipheriv('aes-256-gcm', key, iv)
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()])
      return VERSION + Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64')
    },

    /** The plaintext; a value stored before encryption existed comes back as it is. */
    open(sealed: string): string | undefined {
      if (!sealed.startsWith(VERSION)) return sealed
      const raw = Buffer.from(sealed.slice(VERSION.length), 'base64')
      if (raw.length < 12 + 16) return undefined
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12))
        decipher.setAuthTag(raw.subarray(raw.length - 16))
        return Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]).toString('utf8')
      } catch {
        return undefined // another key, or tampered with
      }
    },
  }
}

export type SecretBox = ReturnType<typeof secretBox>
