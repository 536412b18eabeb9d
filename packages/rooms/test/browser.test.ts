import { fileURLToPath } from 'node:url';
import { bundleForBrowser, chromiumAvailable, launchChromium, nodeBuiltinImports, servePage, useTeardown } from '@rt/test-harness';
import { describe, expect, it } from 'vitest';
import { connect } from '../src/client.js';
import { bind } from '../src/server.js';
import { websocket } from '../src/websocket-listen.js';
import { textIs } from './helpers.js';

const entry = fileURLToPath(new URL('../src/index.ts', import.meta.url));
const chromium = await chromiumAvailable();

describe('browser entry', () => {
  it('bundles for the browser platform without Node built-ins', async () => {
    const code = await bundleForBrowser(entry);
    expect(code).toContain('permission denied');
    expect(nodeBuiltinImports(code)).toEqual([]);
    expect(code).not.toContain('WebSocketServer');
    expect(code).not.toContain('listenWebSocket');
    expect(code).not.toContain('RTYLOG01');
  });

  it.skipIf(!chromium)('syncs a document between headless Chromium and a Node client', async () => {
    const code = await bundleForBrowser({
      contents: `export * from ${JSON.stringify(entry)};\nexport * as Y from 'yjs';`,
      resolveDir: fileURLToPath(new URL('../src/', import.meta.url)),
    });
    const page = await servePage({ '/rooms.js': code });
    useTeardown(() => page.close());
    const server = await bind(websocket({ port: 0 }));
    useTeardown(() => server.close());
    const node = await connect(websocket({ port: server.port! }), { id: 'browser-room' });
    useTeardown(() => node.close());
    await node.synced;
    node.doc.getMap('map').set('from', 'node');
    await node.flush();

    const browser = await launchChromium();
    useTeardown(() => browser.close());
    const tab = await browser.newPage();
    await tab.goto(page.url);
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
