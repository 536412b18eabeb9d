import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { peerAvailable, useTeardown } from '@rt/test-harness';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { connect } from '../src/client.js';
import { bind } from '../src/server.js';
import { websocket } from '../src/websocket-listen.js';
import { textIs } from './helpers.js';

const entry = fileURLToPath(new URL('../src/index.ts', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';

async function bundle(contents: string): Promise<string> {
  const result = await build({
    stdin: { contents, resolveDir: dirname(entry), loader: 'ts' },
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    conditions: ['@rt/source', 'browser'],
    logLevel: 'silent',
  });
  return result.outputFiles[0]?.text ?? '';
}

describe('browser entry', () => {
  it('bundles for the browser platform without Node built-ins', async () => {
    const code = await bundle(`export * from ${JSON.stringify(entry)};`);
    expect(code).toContain('permission denied');
    expect(code).not.toMatch(/from\s*["']node:|require\(["']node:/);
    expect(code).not.toContain('WebSocketServer');
    expect(code).not.toContain('listenWebSocket');
    expect(code).not.toContain('RTYLOG01');
  });

  it('syncs a document between headless Chromium and a Node client', async () => {
    if (!(await peerAvailable('chromium', () => existsSync(CHROMIUM)))) return;
    const code = await bundle(`export * from ${JSON.stringify(entry)};\nexport * as Y from 'yjs';`);
    const page = createServer((request, response) => {
      if (request.url === '/rooms.js') response.writeHead(200, { 'content-type': 'text/javascript' }).end(code);
      else response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>rooms</title>');
    });
    await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
    useTeardown(() => new Promise((resolve) => page.close(resolve)));
    const server = await bind(websocket({ port: 0 }));
    useTeardown(() => server.close());
    const node = await connect(websocket({ port: server.port! }), { id: 'browser-room' });
    useTeardown(() => node.close());
    await node.synced;
    node.doc.getMap('map').set('from', 'node');
    await node.flush();

    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
    useTeardown(() => browser.close());
    const tab = await browser.newPage();
    const address = page.address();
    await tab.goto(`http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`);
    // Sent as source text: the test runner must not rewrite the page's dynamic import.
    const script = `(async () => {
      const { connect, websocket } = await import('/rooms.js');
      const client = await connect(websocket({ port: ${server.port} }), { id: 'browser-room' });
      await client.synced;
      const seen = client.doc.getMap('map').get('from');
      client.doc.getText('text').insert(0, 'typed in chromium');
      await client.flush();
      await client.close();
      return { seen, inBrowser: typeof window !== 'undefined', status: client.status };
    })()`;
    expect(await tab.evaluate(script)).toEqual({ seen: 'node', inBrowser: true, status: 'closed' });
    await textIs(node.doc, 'typed in chromium');
  });
});
