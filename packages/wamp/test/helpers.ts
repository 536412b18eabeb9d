import { useTeardown } from '@rt/test-harness';
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
