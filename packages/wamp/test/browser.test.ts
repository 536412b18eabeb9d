import { generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cryptosignAuth, Result } from '../src/index.js';
import { cryptosignAuthenticator, Router } from '../src/router/index.js';
import { join } from './helpers.js';

const entry = fileURLToPath(new URL('../src/index.ts', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';

async function bundleForBrowser(): Promise<string> {
  const result = await build({
    entryPoints: [entry], bundle: true, write: false, format: 'esm', platform: 'browser',
    conditions: ['@rt/source', 'browser'], logLevel: 'silent',
  });
  return result.outputFiles[0]?.text ?? '';
}

describe('browser entry', () => {
  it('bundles for the browser platform without Node built-ins', async () => {
    const code = await bundleForBrowser();
    expect(code.length).toBeGreaterThan(1000);
    expect(code).not.toMatch(/from\s*["']node:|require\(["'](net|tls|http|fs|crypto)["']\)/);
  });
});

/** Chromium is an external peer: outside CI a missing binary skips with a reason, in CI it fails. */
function chromiumAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env['CI']) throw new Error(`${CHROMIUM} is missing in CI: run tooling/peers/install.mjs`);
  console.warn(`[skip] real-browser test: ${CHROMIUM} not installed (apt-get install chromium)`);
  return false;
}

describe.skipIf(!chromiumAvailable())('the client in headless Chromium', () => {
  let browser: Browser;
  let page: Server;
  let router: Router;
  let url: string;
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const seed = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(-32).toString('hex');
  const pubkey = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('hex');

  beforeAll(async () => {
    const bundle = await bundleForBrowser();
    page = createServer((request, response) => {
      if (request.url === '/wamp.js') response.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
      else response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>rt</title>');
    });
    await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
    router = new Router({
      realms: ['realm1'],
      auth: { realm1: [cryptosignAuthenticator({ getRole: (_id, key) => (key === pubkey ? 'browser' : undefined) })] },
    });
    url = (await router.listen({ host: '127.0.0.1', port: 0 })).url;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await router?.close();
    await new Promise((resolve) => page?.close(resolve));
  });

  it('joins with cryptosign (WebCrypto) and calls a procedure over msgpack', async () => {
    const callee = await join(url, { serializer: 'msgpack', authid: 'node', auth: cryptosignAuth(seed) });
    await callee.register('com.browser.greet', ({ args, details }) => new Result([`hello ${String(args[0])}`], { caller: details['caller_authrole'] }), { discloseCaller: true });
    const tab = await browser.newPage();
    const address = page.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    await tab.goto(`http://127.0.0.1:${port}/`);
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
