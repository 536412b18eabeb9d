import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenWebSocket, type Listener } from '../src/node.js';

const entry = fileURLToPath(new URL('../src/index.ts', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';

async function bundleForBrowser(): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    conditions: ['browser'],
    logLevel: 'silent',
  });
  return result.outputFiles[0]?.text ?? '';
}

describe('browser entry', () => {
  it('bundles for the browser platform without Node built-ins', async () => {
    const code = await bundleForBrowser();
    expect(code.length).toBeGreaterThan(1000);
    expect(code).not.toMatch(/from\s*["']node:|require\(["'](net|tls|http|fs)["']\)/);
  });
});

/** Chromium is an external peer: outside CI a missing binary skips with a reason, in CI it fails. */
function chromiumAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env.CI) throw new Error(`${CHROMIUM} is missing in CI: run tooling/peers/install.mjs`);
  console.warn(`[skip] real-browser test: ${CHROMIUM} not installed (apt-get install chromium)`);
  return false;
}

describe.skipIf(!chromiumAvailable())('WebSocket transport in headless Chromium', () => {
  let browser: Browser;
  let page: Server;
  let echo: Listener;

  beforeAll(async () => {
    const bundle = await bundleForBrowser();
    page = createServer((request, response) => {
      if (request.url === '/transport.js') {
        response.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
      } else {
        response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>rt</title>');
      }
    });
    await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
    echo = await listenWebSocket({ protocols: ['echo.v1'] });
    echo.onConnection((transport) => {
      void (async () => {
        for await (const message of transport) transport.write(message);
      })();
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await echo?.close();
    await new Promise((resolve) => page?.close(resolve));
  });

  it('connects, negotiates a subprotocol, echoes text and binary, and sees the close', async () => {
    const tab = await browser.newPage();
    const address = page.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    await tab.goto(`http://127.0.0.1:${port}/`);
    // Sent as source text: the test runner must not rewrite the page's dynamic import.
    const script = `(async () => {
      const { connectWebSocket } = await import('/transport.js');
      const transport = await connectWebSocket(${JSON.stringify(echo.url)}, { protocols: ['echo.v1'] });
      await transport.send('hello from the browser');
      await transport.send(new Uint8Array([1, 2, 250]));
      const text = await transport.receive();
      const bytes = await transport.receive();
      const info = await transport.close(1000, 'bye');
      return { protocol: transport.protocol, text, bytes: Array.from(bytes), code: info.code, inBrowser: typeof window !== 'undefined' };
    })()`;
    const result: unknown = await tab.evaluate(script);
    expect(result).toEqual({
      protocol: 'echo.v1',
      text: 'hello from the browser',
      bytes: [1, 2, 250],
      code: 1000,
      inBrowser: true,
    });
  });
});
