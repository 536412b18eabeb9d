import { afterEach } from 'vitest';
import type { Listener, Transport } from '../src/node.js';

/** Teardowns of the running test, run (together) after it. */
export const cleanups: (() => Promise<unknown>)[] = [];

afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

/** Close `transport` after the test; returns it. */
export function track<T extends Transport>(transport: T): T {
  cleanups.push(() => transport.close());
  return transport;
}

/** Make `listener` echo every message back on each connection, and close it after the test. */
export function echoOn<L extends Listener>(listener: L): L {
  cleanups.push(() => listener.close());
  listener.onConnection((transport) => {
    void (async () => {
      for await (const message of transport) transport.write(message);
    })();
  });
  return listener;
}
