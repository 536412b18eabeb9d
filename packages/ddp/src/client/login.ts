import { DDPError } from '../errors.js';
import { isObject } from '../own.js';

/** Hex SHA-256 of a password, as Meteor's `loginWithPassword` sends it (Web Crypto: browsers and Node). */
async function sha256Hex(password: string): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(password));
  let hex = '';
  for (const byte of new Uint8Array(digest)) hex += byte.toString(16).padStart(2, '0');
  return hex;
}

/** What a successful login returns. */
export interface LoginResult {
  /** The logged-in user. */
  userId: string;
  /** The resume token, re-sent automatically after reconnects. */
  token: string | undefined;
  /** When the token expires, if the server said. */
  tokenExpires: Date | undefined;
}

/** Who to log in: a username, an email (contains `@`), or a Meteor user selector. */
export type UserSelector = string | { username: string } | { email: string } | { id: string };

/** The argument of Meteor's `login` method for a password login. */
export async function passwordLogin(user: UserSelector, password: string): Promise<Record<string, unknown>> {
  const selector = typeof user === 'string' ? (user.includes('@') ? { email: user } : { username: user }) : user;
  return { user: selector, password: { digest: await sha256Hex(password), algorithm: 'sha-256' } };
}

/** Read the answer of the `login` method (`{ id, token, tokenExpires }`). */
export function parseLoginAnswer(answer: unknown): LoginResult {
  if (!isObject(answer) || typeof answer['id'] !== 'string') throw new DDPError('invalid-login-result', 'the server sent no user id');
  const expires = answer['tokenExpires'];
  return {
    userId: answer['id'],
    token: typeof answer['token'] === 'string' ? answer['token'] : undefined,
    tokenExpires: expires instanceof Date ? expires : undefined,
  };
}
