import { connectWebSocket, type Transport } from '@rt/transport';
import { useTeardown } from '@rt/test-harness';
import { expect } from 'vitest';
import { connect, type Client, type ConnectOptions } from '../src/index.js';
import { Router, type RouterOptions } from '../src/router/index.js';

/** Start a router on loopback port 0; closed after the test. */
export async function startRouter(options: Partial<RouterOptions> = {}): Promise<{ router: Router; url: string; port: number }> {
  const router = new Router({ realms: ['realm1'], ...options });
  const address = await router.listen({ host: '127.0.0.1', port: 0 });
  useTeardown(() => router.close());
  return { router, url: address.url, port: address.port };
}

/** Connect a client to `url` on realm1; closed after the test. */
export async function join(url: string, options: Partial<ConnectOptions> = {}): Promise<Client> {
  const client = await connect(url, { realm: 'realm1', ...options });
  useTeardown(() => client.close());
  return client;
}

/** A promise with its resolve function, for waiting on events. */
export function signal<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Collect `count` values pushed to `push`, then resolve them. */
export function collector<T>(count: number): { push: (value: T) => void; done: Promise<T[]>; values: T[] } {
  const values: T[] = [];
  const { promise, resolve } = signal<T[]>();
  return {
    values,
    done: promise,
    push(value) {
      values.push(value);
      if (values.length === count) resolve(values);
    },
  };
}

/** What a raw session learned from WELCOME, and how to drive it. */
export interface RawSession {
  transport: Transport;
  /** The session id from WELCOME. */
  id: number;
  /** The router's roles and features from WELCOME. */
  roles: Record<string, { features?: Record<string, unknown> }>;
  /** The next message the router sent (fails after 5 s). */
  next(): Promise<unknown[]>;
  send(message: unknown[]): void;
}

/**
 * A hand-driven JSON session on a real WebSocket announcing exactly `roles` (plus `details` in
 * HELLO): it sees every message in the order the router sent it.
 */
export async function rawSession(url: string, roles: Record<string, unknown>, details: Record<string, unknown> = {}): Promise<RawSession> {
  const transport = await connectWebSocket(url, { protocols: ['wamp.2.json'] });
  useTeardown(() => transport.close());
  const next = async (): Promise<unknown[]> => JSON.parse((await transport.receive({ timeoutMs: 5000 })) as string) as unknown[];
  const send = (message: unknown[]): void => void transport.write(JSON.stringify(message));
  send([1, 'realm1', { ...details, roles }]);
  const welcome = await next();
  expect(welcome[0]).toBe(2);
  const welcomeDetails = welcome[2] as { roles: RawSession['roles'] };
  return { transport, id: welcome[1] as number, roles: welcomeDetails.roles, next, send };
}
