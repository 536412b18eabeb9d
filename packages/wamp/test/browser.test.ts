import { generateKeyPairSync } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import {
  bundleForBrowser,
  chromiumAvailable,
  launchChromium,
  nodeBuiltinImports,
  servePage,
  type Browser,
  type PageServer,
} from '@rt/test-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cryptosignAuth, Result } from '../src/index.js';
import { cryptosignAuthenticator, Router } from '../src/router/index.js';
import { join } from './helpers.js';

const entry = fileURLToPath(new URL('../src/index.ts', import.meta.url));

describe('browser entry', () => {
  it('bundles for the browser platform without Node built-ins', async () => {
    const code = await bundleForBrowser(entry);
    expect(code.length).toBeGreaterThan(1000);
    expect(nodeBuiltinImports(code)).toEqual([]);
  });
});

describe.skipIf(!(await chromiumAvailable()))('the client in headless Chromium', () => {
  let browser: Browser;
  let page: PageServer;
  let router: Router;
  let url: string;
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const seed = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(-32).toString('hex');
  const pubkey = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('hex');

  beforeAll(async () => {
    page = await servePage({ '/wamp.js': await bundleForBrowser(entry) });
    router = new Router({
      realms: ['realm1'],
      auth: { realm1: [cryptosignAuthenticator({ getRole: (_id, key) => (key === pubkey ? 'browser' : undefined) })] },
    });
    url = (await router.listen({ host: '127.0.0.1', port: 0 })).url;
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await router?.close();
    await page?.close();
  });

  it('joins with cryptosign (WebCrypto) and calls a procedure over msgpack', async () => {
    const callee = await join(url, { serializer: 'msgpack', authid: 'node', auth: cryptosignAuth(seed) });
    await callee.register('com.browser.greet', ({ args, details }) => new Result([`hello ${String(args[0])}`], { caller: details['caller_authrole'] }), { discloseCaller: true });
    const tab = await browser.newPage();
    await tab.goto(page.url);
    // Sent as source text: the test runner must not rewrite the page's dynamic import.
    const script = `(async () => {
      const wamp = await import('/wamp.js');
      const client = await wamp.connect(${JSON.stringify(url)}, { realm: 'realm1', serializer: 'msgpack', authid: 'tab', auth: wamp.cryptosignAuth(${JSON.stringify(seed)}) });
      const result = await client.call('com.browser.greet', ['browser']);
      const session = client.session;
      await client.close();
      return { args: result.args, kwargs: result.kwargs, authrole: session.authrole, authmethod: session.authmethod };
    })()`;
    const result: unknown = await tab.evaluate(script);
    expect(result).toEqual({ args: ['hello browser'], kwargs: { caller: 'browser' }, authrole: 'browser', authmethod: 'cryptosign' });
  });
});
