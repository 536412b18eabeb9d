import { bytesToBase64, bytesToHex, hexToBytes } from '../binary.js';
import type { Dict } from '../messages.js';

/**
 * A client-side authentication method. `authextra` is sent in HELLO; `respond` answers the
 * router's CHALLENGE with the AUTHENTICATE signature.
 */
export interface ClientAuthenticator {
  /** The auth method name announced in HELLO (`ticket`, `wampcra`, `cryptosign`, ...). */
  readonly method: string;
  authextra?(): Dict | Promise<Dict>;
  respond(extra: Dict): string | Promise<string>;
}

/** Ticket authentication: answers the challenge with the ticket. */
export function ticketAuth(ticket: string): ClientAuthenticator {
  return { method: 'ticket', respond: () => ticket };
}

const encoder = new TextEncoder();

async function hmacSha256(key: Uint8Array<ArrayBuffer>, message: string): Promise<Uint8Array> {
  const cryptoKey = await crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return new Uint8Array(await crypto.subtle.sign('HMAC', cryptoKey, encoder.encode(message)));
}

/**
 * Derive a WAMP-CRA key from a salted secret: the base64 of PBKDF2-HMAC-SHA256(secret, salt,
 * iterations, keylen). The base64 text (as UTF-8) is the HMAC key.
 */
export async function deriveKey(secret: string, salt: string, iterations = 1000, keylen = 32): Promise<string> {
  const base = await crypto.subtle.importKey('raw', encoder.encode(secret), 'PBKDF2', false, ['deriveBits']);
  const bits = await crypto.subtle.deriveBits({ name: 'PBKDF2', salt: encoder.encode(salt), iterations, hash: 'SHA-256' }, base, keylen * 8);
  return bytesToBase64(new Uint8Array(bits));
}

/** WAMP-CRA: signs the challenge with HMAC-SHA256, deriving the key first when the router sends a salt. */
export function wampcraAuth(secret: string): ClientAuthenticator {
  return {
    method: 'wampcra',
    async respond(extra) {
      const challenge = String(extra['challenge'] ?? '');
      let key = secret;
      if (typeof extra['salt'] === 'string') {
        const iterations = typeof extra['iterations'] === 'number' ? extra['iterations'] : 1000;
        const keylen = typeof extra['keylen'] === 'number' ? extra['keylen'] : 32;
        key = await deriveKey(secret, extra['salt'], iterations, keylen);
      }
      return bytesToBase64(await hmacSha256(encoder.encode(key), challenge));
    },
  };
}

const PKCS8_ED25519_PREFIX = hexToBytes('302e020100300506032b657004220420');

function base64UrlToBytes(text: string): Uint8Array {
  const base64 = text.replace(/-/g, '+').replace(/_/g, '/');
  const raw = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

/**
 * Cryptosign (Ed25519, WebCrypto): `privateKey` is the 32-byte seed as hex (or bytes). Sends
 * the public key in `authextra.pubkey` and answers with hex(signature + challenge).
 */
export function cryptosignAuth(privateKey: string | Uint8Array): ClientAuthenticator {
  const seed = typeof privateKey === 'string' ? hexToBytes(privateKey) : privateKey;
  if (seed.length !== 32) throw new TypeError('a cryptosign private key is a 32-byte Ed25519 seed');
  const pkcs8 = new Uint8Array(PKCS8_ED25519_PREFIX.length + 32);
  pkcs8.set(PKCS8_ED25519_PREFIX);
  pkcs8.set(seed, PKCS8_ED25519_PREFIX.length);
  const keyPromise = crypto.subtle.importKey('pkcs8', pkcs8, { name: 'Ed25519' }, true, ['sign']);
  return {
    method: 'cryptosign',
    async authextra() {
      const jwk = await crypto.subtle.exportKey('jwk', await keyPromise);
      return { pubkey: bytesToHex(base64UrlToBytes(jwk.x ?? '')) };
    },
    async respond(extra) {
      const challenge = hexToBytes(String(extra['challenge'] ?? ''));
      const signature = new Uint8Array(await crypto.subtle.sign({ name: 'Ed25519' }, await keyPromise, challenge));
      return bytesToHex(signature) + bytesToHex(challenge);
    },
  };
}
