import { generateKeyPairSync } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { hasPython3Module, peerAvailable, startPythonPeer, useTeardown } from '@rt/test-harness';
import { describe, expect, it } from 'vitest';
import { cryptosignAuthenticator, ticketAuthenticator, wampcraAuthenticator } from '../src/router/index.js';
import { startRouter } from './helpers.js';

const script = fileURLToPath(new URL('./peers/autobahn_auth.py', import.meta.url));
const available = await peerAvailable('python3-autobahn with PyNaCl', hasPython3Module('autobahn.wamp.cryptosign'));

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const seed = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(-32).toString('hex');
const pubkey = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('hex');

async function authRouter(): Promise<string> {
  const users: Record<string, { secret: string; authrole: string; salt?: string; iterations?: number; keylen?: number }> = {
    carol: { secret: 'carol-secret', authrole: 'plain' },
    dan: { secret: 'dan-secret', authrole: 'salted', salt: 'some-salt', iterations: 100, keylen: 32 },
  };
  const { url } = await startRouter({
    auth: [
      ticketAuthenticator({ verify: (authid, ticket) => (authid === 'tom' && ticket === 'tom-ticket' ? 'ticketed' : undefined) }),
      wampcraAuthenticator({ getUser: (authid) => users[authid] }),
      cryptosignAuthenticator({ getRole: (_authid, key) => (key === pubkey ? 'signed' : undefined) }),
    ],
  });
  return url;
}

async function run(url: string, method: string, authid: string, secret: string): Promise<string> {
  const peer = await startPythonPeer({ script, args: [url, 'realm1', method, authid, secret], readyPattern: /^(JOINED|ABORTED) /, timeoutMs: 20_000 });
  useTeardown(() => peer.stop());
  const [line] = await peer.waitForLine(/^(JOINED|ABORTED) .*/);
  return line;
}

describe.skipIf(!available)('Autobahn|Python authenticates against our router', () => {
  it.each([
    ['ticket', 'tom', 'tom-ticket', 'JOINED tom ticketed ticket'],
    ['wampcra', 'carol', 'carol-secret', 'JOINED carol plain wampcra'],
    ['wampcra', 'dan', 'dan-secret', 'JOINED dan salted wampcra'],
    ['cryptosign', 'sig', seed, 'JOINED sig signed cryptosign'],
  ])('with %s as %s', async (method, authid, secret, expected) => {
    expect(await run(await authRouter(), method, authid, secret)).toBe(expected);
  });

  it.each([
    ['ticket', 'tom', 'wrong'],
    ['wampcra', 'carol', 'wrong'],
  ])('refuses %s with a wrong secret', async (method, authid, secret) => {
    expect(await run(await authRouter(), method, authid, secret)).toBe('ABORTED wamp.error.authentication_failed');
  });
});
