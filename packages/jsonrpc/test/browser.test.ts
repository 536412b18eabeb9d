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
import { Server } from '../src/server.js';
import { ServerSession } from '../src/server-session.js';
import { testHandlers } from './helpers.js';

const entry = fileURLToPath(new URL('../src/index.ts', import.meta.url));

describe('browser entry', () => {
  it('bundles for the browser platform without Node built-ins', async () => {
    const code = await bundleForBrowser(entry);
    expect(code).toContain('in a browser, JSON-RPC sessions connect to ws:// or wss:// URLs only');
    expect(nodeBuiltinImports(code)).toEqual([]);
    expect(code).not.toContain('connectTcp');
  });
});

describe.skipIf(!(await chromiumAvailable()))('ClientSession in headless Chromium', () => {
  let browser: Browser;
  let page: PageServer;
  let rpc: Server;
  let rpcUrl: string;

  beforeAll(async () => {
    page = await servePage({ '/jsonrpc.js': await bundleForBrowser(entry) });
    rpc = new Server(() => new ServerSession({ handlers: testHandlers }), { websocket: { path: '/rpc' } });
    rpcUrl = (await rpc.listen()).url;
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await rpc?.close();
    await page?.close();
  });

  it('calls our Server over WebSocket and refuses TCP URLs', async () => {
    const tab = await browser.newPage();
    await tab.goto(page.url);
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
