import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AuthError, cryptosignAuth, deriveKey, AbortError, ticketAuth, wampcraAuth } from '../src/index.js';
import { cryptosignAuthenticator, deriveCraKey, ticketAuthenticator, wampcraAuthenticator, type Authenticator } from '../src/router/index.js';
import { join, startRouter } from './helpers.js';

function ed25519Seed(): { seed: string; pubkey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const seed = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(-32).toString('hex');
  const pubkey = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('hex');
  return { seed, pubkey };
}

describe('authentication', () => {
  const users = {
    alice: { secret: 'alice-secret', authrole: 'user' },
    bob: { secret: 'bob-secret', authrole: 'admin', salt: 'pepper', iterations: 100, keylen: 32 },
  };
  const keys = ed25519Seed();
  const auth: Authenticator[] = [
    ticketAuthenticator({ verify: (authid, ticket) => (authid === 'joe' && ticket === 'open-sesame' ? 'guest' : undefined) }),
    wampcraAuthenticator({ getUser: (authid) => users[authid as keyof typeof users] }),
    cryptosignAuthenticator({ getRole: (_authid, pubkey) => (pubkey === keys.pubkey ? 'signer' : undefined) }),
  ];

  it('accepts a valid ticket and refuses a wrong one', async () => {
    const { url } = await startRouter({ auth });
    const client = await join(url, { authid: 'joe', auth: ticketAuth('open-sesame') });
    expect(client.session).toMatchObject({ authid: 'joe', authrole: 'guest', authmethod: 'ticket' });
    await expect(join(url, { authid: 'joe', auth: ticketAuth('nope') })).rejects.toMatchObject({ reason: 'wamp.error.authentication_failed' });
  });

  it('does WAMP-CRA with plain and salted secrets', async () => {
    const { url } = await startRouter({ auth });
    const alice = await join(url, { authid: 'alice', auth: wampcraAuth('alice-secret') });
    expect(alice.session).toMatchObject({ authid: 'alice', authrole: 'user', authmethod: 'wampcra' });
    const bob = await join(url, { authid: 'bob', auth: wampcraAuth('bob-secret') });
    expect(bob.session).toMatchObject({ authid: 'bob', authrole: 'admin' });
    const error = await join(url, { authid: 'alice', auth: wampcraAuth('wrong') }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
  });

  it('derives salted keys like the router', async () => {
    expect(await deriveKey('secret', 'salt', 100, 32)).toBe(deriveCraKey('secret', 'salt', 100, 32));
  });

  it('does cryptosign with an Ed25519 key', async () => {
    const { url } = await startRouter({ auth });
    const client = await join(url, { authid: 'signer-1', auth: cryptosignAuth(keys.seed) });
    expect(client.session).toMatchObject({ authid: 'signer-1', authrole: 'signer', authmethod: 'cryptosign' });
    const other = ed25519Seed();
    await expect(join(url, { auth: cryptosignAuth(other.seed) })).rejects.toMatchObject({ reason: 'wamp.error.authentication_failed' });
  });

  it('refuses anonymous clients when auth is configured, and unknown realms', async () => {
    const { url } = await startRouter({ auth });
    await expect(join(url)).rejects.toMatchObject({ reason: 'wamp.error.no_auth_method' });
    const open = await startRouter();
    const error = await join(open.url, { realm: 'nowhere' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortError);
    expect(error).toMatchObject({ reason: 'wamp.error.no_such_realm' });
  });

  it('authorizes per URI and action', async () => {
    const { url } = await startRouter({
      authorize: (session, uri, action) => !(action === 'call' && uri.startsWith('com.secret.')) || session.authid === 'root',
    });
    const callee = await join(url);
    const root = await join(url, { authid: 'root' });
    const guest = await join(url, { authid: 'guest' });
    await callee.register('com.secret.thing', () => 42);
    expect((await root.call('com.secret.thing')).args).toEqual([42]);
    await expect(guest.call('com.secret.thing')).rejects.toMatchObject({ uri: 'wamp.error.not_authorized' });
  });
});
