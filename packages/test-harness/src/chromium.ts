import type { Browser } from 'playwright-core';
import { hasCommand, peerAvailable, type PeerCheck } from './peer-available.js';

/** playwright-core's browser handle, as {@link launchChromium} resolves it. */
export type { Browser } from 'playwright-core';

/** Debian's Chromium, the browser the real-browser tests drive. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Flags every launch passes: headless, no sandbox (containers, root), no background traffic. */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A peer check that passes when {@link CHROMIUM_PATH} is installed. */
export function hasChromium(): PeerCheck {
  const installed = hasCommand(CHROMIUM_PATH);
  return async () => {
    const result = await installed();
    if (result === true || (typeof result === 'object' && result.available)) return true;
    return { available: false, reason: `${CHROMIUM_PATH} is not installed (apt-get install chromium, or run tooling/peers/install.mjs)` };
  };
}

/**
 * Whether the real-browser tests can run: `true` when Chromium is installed; otherwise
 * {@link peerAvailable}'s rule (skip with a printed reason outside CI, throw in CI).
 *
 * @example
 * ```ts
 * describe.skipIf(!(await chromiumAvailable()))('in headless Chromium', () => { ... });
 * ```
 */
export function chromiumAvailable(): Promise<boolean> {
  return peerAvailable('chromium', hasChromium());
}

/**
 * Launch Debian's headless Chromium through playwright-core (an optional peer dependency,
 * loaded on the first call) with {@link CHROMIUM_ARGS}. Close the browser when done.
 */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS] });
}
