import { createServer, type Server as HttpServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { hasCommand, peerAvailable } from '@rt/test-harness';
import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Server } from '../src/server.js';
import { ServerSession } from '../src/server-session.js';
import { testHandlers } from './helpers.js';

const entry = fileURLToPath(new URL('../src/index.ts', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';

async function bundleForBrowser(): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    conditions: ['browser', '@rt/source'],
    logLevel: 'silent',
  });
  return result.outputFiles[0]?.text ?? '';
}

describe('browser entry', () => {
  it('bundles for the browser platform without Node built-ins', async () => {
    const code = await bundleForBrowser();
    expect(code).toContain('in a browser, JSON-RPC sessions connect to ws:// or wss:// URLs only');
    expect(code).not.toMatch(/from\s*["']node:|require\(["'](net|tls|http|fs)["']\)/);
    expect(code).not.toContain('connectTcp');
  });
});

const chromiumAvailable = await peerAvailable('chromium', hasCommand(CHROMIUM));

describe.skipIf(!chromiumAvailable)('ClientSession in headless Chromium', () => {
  let browser: Browser;
  let page: HttpServer;
  let rpc: Server;
  let rpcUrl: string;

  beforeAll(async () => {
    const bundle = await bundleForBrowser();
    page = createServer((request, response) => {
      if (request.url === '/jsonrpc.js') response.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
      else response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>rt</title>');
    });
    await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
    rpc = new Server(() => new ServerSession({ handlers: testHandlers }), { websocket: { path: '/rpc' } });
    rpcUrl = (await rpc.listen()).url;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await rpc?.close();
    await new Promise((resolve) => page?.close(resolve));
  });

  it('calls our Server over WebSocket and refuses TCP URLs', async () => {
    const tab = await browser.newPage();
    const address = page.address();
    await tab.goto(`http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`);
    // Sent as source text: the test runner must not rewrite the page's dynamic import.
    const script = `(async () => {
      const { connect, RPCError } = await import('/jsonrpc.js');
      const client = await connect(${JSON.stringify(rpcUrl)});
      const sum = await client.sendRequest('add', [2, 3]);
      const named = await client.sendRequest('greet', { name: 'chromium' });
      const batch = await client.sendBatch((b) => b.addRequest('echo', ['x']).addRequest('missing'));
      const info = await client.close();
      const refused = await connect('tcp://127.0.0.1:1').then(() => 'connected', (error) => error.message);
      return { sum, named, first: batch[0], second: batch[1] instanceof RPCError ? batch[1].code : null, code: info.code, refused };
    })()`;
    expect(await tab.evaluate(script)).toEqual({
      sum: 5,
      named: 'hello chromium',
      first: 'x',
      second: -32601,
      code: 1000,
      refused: 'in a browser, JSON-RPC sessions connect to ws:// or wss:// URLs only',
    });
  });
});
