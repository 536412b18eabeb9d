import { createHmac, createPublicKey, pbkdf2Sync, randomBytes, timingSafeEqual, verify } from 'node:crypto';
import type { Dict } from '../messages.js';

/** What a router knows about a joining client when it authenticates it. */
export interface HelloInfo {
  /** The realm asked for. */
  realm: string;
  /** The session id the router will assign. */
  sessionId: number;
  /** HELLO.Details.authid. */
  authid: string | undefined;
  /** HELLO.Details.authrole. */
  authrole: string | undefined;
  /** HELLO.Details.authextra. */
  authextra: Dict;
  /** Every HELLO detail. */
  details: Dict;
}

/** The identity an authenticator grants. */
export interface AuthIdentity {
  /** The authenticated id. */
  authid: string;
  /** The role granted. */
  authrole: string;
  /** Who vouched (default `static`). */
  authprovider?: string;
  /** Extra data sent in WELCOME. */
  authextra?: Dict;
}

/** Thrown by an authenticator to refuse a client (ABORT `wamp.error.authentication_failed`). */
export class AuthenticationFailed extends Error {}

/**
 * A pluggable authentication method. `challenge` returns the CHALLENGE extra (omit it for
 * methods without a challenge, such as anonymous); `authenticate` checks the AUTHENTICATE
 * signature against it and resolves the identity, or throws `AuthenticationFailed`.
 */
export interface Authenticator {
  /** The auth method name (`anonymous`, `ticket`, `wampcra`, `cryptosign`, ...). */
  readonly method: string;
  challenge?(hello: HelloInfo): Dict | Promise<Dict>;
  authenticate(hello: HelloInfo, signature: string | undefined, challenge: Dict | undefined): AuthIdentity | Promise<AuthIdentity>;
}

/** Accepts everyone, with `authid` the client asked for (or a generated one) and the given role. */
export function anonymousAuthenticator(options: { authrole?: string } = {}): Authenticator {
  return {
    method: 'anonymous',
    authenticate(hello) {
      return { authid: hello.authid ?? `anonymous-${hello.sessionId}`, authrole: options.authrole ?? 'anonymous', authprovider: 'static' };
    },
  };
}

/** Ticket auth: `verify(authid, ticket)` resolves the role, or `undefined`/`false` to refuse. */
export function ticketAuthenticator(options: {
  verify(authid: string, ticket: string, hello: HelloInfo): string | false | undefined | Promise<string | false | undefined>;
}): Authenticator {
  return {
    method: 'ticket',
    challenge: () => ({}),
    async authenticate(hello, signature) {
      if (hello.authid === undefined || signature === undefined) throw new AuthenticationFailed('ticket auth needs an authid and a ticket');
      const role = await options.verify(hello.authid, signature, hello);
      if (typeof role !== 'string') throw new AuthenticationFailed('invalid ticket');
      return { authid: hello.authid, authrole: role, authprovider: 'static' };
    },
  };
}

/** A WAMP-CRA user: the shared secret (plain, or salted with PBKDF2 parameters) and the role. */
export interface CraUser {
  /** The shared secret. */
  secret: string;
  /** The role granted. */
  authrole: string;
  /** PBKDF2 salt: the HMAC key is then derived from the secret. */
  salt?: string;
  /** PBKDF2 iterations (default 1000). */
  iterations?: number;
  /** Derived key length in bytes (default 32). */
  keylen?: number;
}

/** Derive the WAMP-CRA key for a salted secret: base64 of PBKDF2-HMAC-SHA256(secret, salt). */
export function deriveCraKey(secret: string, salt: string, iterations = 1000, keylen = 32): string {
  return pbkdf2Sync(secret, salt, iterations, keylen, 'sha256').toString('base64');
}

/** WAMP-CRA: HMAC-SHA256 over a router-made challenge with the user's (possibly derived) secret. */
export function wampcraAuthenticator(options: {
  getUser(authid: string, hello: HelloInfo): CraUser | undefined | Promise<CraUser | undefined>;
}): Authenticator {
  const users = new WeakMap<Dict, CraUser>();
  return {
    method: 'wampcra',
    async challenge(hello) {
      if (hello.authid === undefined) throw new AuthenticationFailed('wampcra needs an authid');
      const user = await options.getUser(hello.authid, hello);
      if (user === undefined) throw new AuthenticationFailed(`no such user ${hello.authid}`);
      const challenge = JSON.stringify({
        authid: hello.authid, authrole: user.authrole, authmethod: 'wampcra', authprovider: 'static',
        nonce: randomBytes(16).toString('base64'), timestamp: new Date().toISOString(), session: hello.sessionId,
      });
      const extra: Dict = { challenge };
      if (user.salt !== undefined) {
        extra['salt'] = user.salt;
        extra['iterations'] = user.iterations ?? 1000;
        extra['keylen'] = user.keylen ?? 32;
      }
      users.set(extra, user);
      return extra;
    },
    authenticate(hello, signature, challenge) {
      const user = challenge === undefined ? undefined : users.get(challenge);
      if (user === undefined || challenge === undefined || signature === undefined || hello.authid === undefined) {
        throw new AuthenticationFailed('wampcra challenge missing');
      }
      const key = user.salt === undefined ? user.secret : deriveCraKey(user.secret, user.salt, user.iterations, user.keylen);
      const expected = createHmac('sha256', key).update(String(challenge['challenge'])).digest();
      const given = Buffer.from(signature, 'base64');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new AuthenticationFailed('wrong signature');
      return { authid: hello.authid, authrole: user.authrole, authprovider: 'static' };
    },
  };
}

const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/**
 * Cryptosign (Ed25519): the client names its public key (hex) in `authextra.pubkey`, signs a
 * random 32-byte challenge, and answers with the hex of signature + challenge.
 * `getRole(authid, pubkey)` resolves the role for a known key, or `undefined` to refuse.
 */
export function cryptosignAuthenticator(options: {
  getRole(authid: string | undefined, pubkey: string, hello: HelloInfo): string | undefined | Promise<string | undefined>;
}): Authenticator {
  const roles = new WeakMap<Dict, { role: string; pubkey: string }>();
  return {
    method: 'cryptosign',
    async challenge(hello) {
      const pubkey = hello.authextra['pubkey'];
      if (typeof pubkey !== 'string' || !/^[\da-fA-F]{64}$/.test(pubkey)) throw new AuthenticationFailed('cryptosign needs authextra.pubkey (hex)');
      const role = await options.getRole(hello.authid, pubkey.toLowerCase(), hello);
      if (role === undefined) throw new AuthenticationFailed('unknown public key');
      const extra: Dict = { challenge: randomBytes(32).toString('hex'), channel_binding: null };
      roles.set(extra, { role, pubkey: pubkey.toLowerCase() });
      return extra;
    },
    authenticate(hello, signature, challenge) {
      const entry = challenge === undefined ? undefined : roles.get(challenge);
      if (entry === undefined || challenge === undefined || typeof signature !== 'string' || !/^[\da-fA-F]{128}([\da-fA-F]{64})?$/.test(signature)) {
        throw new AuthenticationFailed('malformed cryptosign signature');
      }
      const key = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, Buffer.from(entry.pubkey, 'hex')]), format: 'der', type: 'spki' });
      const message = Buffer.from(String(challenge['challenge']), 'hex');
      const sig = Buffer.from(signature.slice(0, 128), 'hex');
      if (!verify(null, message, key, sig)) throw new AuthenticationFailed('bad cryptosign signature');
      return { authid: hello.authid ?? entry.pubkey, authrole: entry.role, authprovider: 'static', authextra: { pubkey: entry.pubkey } };
    },
  };
}
