import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bundleForBrowser,
  CHROMIUM_ARGS,
  chromiumAvailable,
  hasChromium,
  launchChromium,
  nodeBuiltinImports,
  servePage,
  type PageServer,
} from '../src/index.js';

describe('bundleForBrowser', () => {
  it('bundles TypeScript source text into one ESM module', async () => {
    const code = await bundleForBrowser({
      contents: 'const answer: number = 6 * 7;\nexport const label = `answer=${answer}`;',
      resolveDir: tmpdir(),
    });
    expect(code).toMatch(/export\s*\{/);
    expect(code).toContain('answer=');
    expect(code).not.toContain(': number');
    expect(nodeBuiltinImports(code)).toEqual([]);
  });

  it('bundles a workspace package from its sources (the @rt/source condition), browser-safe', async () => {
    const code = await bundleForBrowser({
      contents: "import { jsonCodec } from '@rt/transport';\nexport const encoded = jsonCodec.encode({ a: 1 });",
      resolveDir: fileURLToPath(new URL('..', import.meta.url)),
    });
    expect(code).toContain('jsonCodec');
    expect(code).not.toContain('listenWebSocket');
    expect(nodeBuiltinImports(code)).toEqual([]);
  });

  it('bundles a module path', async () => {
    const entry = fileURLToPath(new URL('../src/matcher.ts', import.meta.url));
    const code = await bundleForBrowser(entry);
    expect(code).toContain('function findMismatch');
    expect(nodeBuiltinImports(code)).toEqual([]);
  });

  it('fails when something in the graph is a Node built-in', async () => {
    await expect(
      bundleForBrowser({ contents: "import { readFileSync } from 'node:fs';\nexport const read = readFileSync;", resolveDir: tmpdir() }),
    ).rejects.toThrow(/node:fs/);
  });
});

describe('nodeBuiltinImports', () => {
  it('lists node: specifiers, bare built-ins and extra names, once each, in order', () => {
    const code = [
      'import a from "node:fs";',
      "const net = require('net');",
      "const later = import('fs/promises');",
      'import "events";',
      "import { WebSocket } from 'ws';",
      'import b from "node:fs";',
      "import local from './local.js';",
      'import lib from "lodash";',
      "const text = 'from here on';",
    ].join('\n');
    expect(nodeBuiltinImports(code)).toEqual(['node:fs', 'net', 'fs/promises', 'events']);
    expect(nodeBuiltinImports(code, ['ws'])).toEqual(['node:fs', 'net', 'fs/promises', 'events', 'ws']);
  });

  it('finds nothing in browser-only code', () => {
    expect(nodeBuiltinImports('import { x } from "./x.js"; export const y = await import("/app.js");')).toEqual([]);
  });
});

describe('servePage', () => {
  it('serves the scripts by path and an HTML page elsewhere, then closes', async () => {
    const page = await servePage({ '/app.js': 'export const ok = true;' });
    const script = await fetch(new URL('/app.js', page.url));
    expect(script.headers.get('content-type')).toBe('text/javascript');
    expect(await script.text()).toBe('export const ok = true;');
    const html = await fetch(page.url);
    expect(html.headers.get('content-type')).toBe('text/html');
    expect(await html.text()).toContain('<!doctype html>');
    expect(page.url).toBe(`http://127.0.0.1:${page.port}/`);
    await page.close();
    await expect(fetch(page.url)).rejects.toThrow();
    await page.close();
  });
});

describe('hasChromium', () => {
  it('reports a result for /usr/bin/chromium with an install hint when missing', async () => {
    const result = await hasChromium()();
    if (result !== true) expect(result).toMatchObject({ available: false, reason: expect.stringContaining('apt-get install chromium') });
    expect(CHROMIUM_ARGS).toContain('--no-sandbox');
  });
});

describe.skipIf(!(await chromiumAvailable()))('launchChromium', () => {
  let page: PageServer;

  beforeAll(async () => {
    page = await servePage({ '/app.js': await bundleForBrowser({ contents: 'export const sum = (a: number, b: number) => a + b;', resolveDir: tmpdir() }) });
  });

  afterAll(async () => {
    await page?.close();
  });

  it('runs a bundle served by servePage in a real browser tab', async () => {
    const browser = await launchChromium();
    try {
      const tab = await browser.newPage();
      await tab.goto(page.url);
      // Sent as source text: the test runner must not rewrite the page's dynamic import.
      const result: unknown = await tab.evaluate(`(async () => {
        const { sum } = await import('/app.js');
        return { sum: sum(2, 3), inBrowser: typeof window !== 'undefined' };
      })()`);
      expect(result).toEqual({ sum: 5, inBrowser: true });
    } finally {
      await browser.close();
    }
  });
});
