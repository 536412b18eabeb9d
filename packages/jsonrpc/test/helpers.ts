import { createMemoryPair, type Transport } from '@rt/transport';
import { onTestFinished } from 'vitest';
import { Server, type ServerAddress, type ServerOptions, type SessionFactory } from '../src/server.js';
import { ServerSession } from '../src/server-session.js';
import type { AttachableSession } from '../src/session-types.js';
import type { SessionOptions } from '../src/session-options.js';

/** Handlers used by most tests. */
export const testHandlers = {
  echo: (value: unknown): unknown => value,
  add: (a: number, b: number): number => a + b,
  greet: (named: { name: string }): string => `hello ${named.name}`,
  fail: (): never => {
    throw new Error('boom');
  },
  nothing: (): void => undefined,
};

/** A server session on one end of a memory pair; the other end is a raw transport. */
export function rawPeer(options: SessionOptions = {}): { session: ServerSession; raw: Transport } {
  const [a, b] = createMemoryPair();
  const session = new ServerSession({ handlers: testHandlers, ...options });
  session.attach(a);
  onTestFinished(() => {
    b.abort();
  });
  return { session, raw: b };
}

/** Send raw text and parse the next message the session answers. */
export async function exchange(raw: Transport, text: string): Promise<unknown> {
  raw.write(text);
  const reply = await raw.receive({ timeoutMs: 5000 });
  if (reply === undefined) throw new Error('the connection closed without a reply');
  return JSON.parse(typeof reply === 'string' ? reply : new TextDecoder().decode(reply)) as unknown;
}

/** A client and a server session joined by a memory pair. */
export function sessionPair<S extends AttachableSession, C extends AttachableSession>(
  server: S,
  client: C,
  inherited: SessionOptions = {},
): { server: S; client: C } {
  const [a, b] = createMemoryPair();
  server.attach(a, inherited);
  client.attach(b, inherited);
  onTestFinished(() => {
    a.abort();
  });
  return { server, client };
}

/** Start a `Server` and close it when the test finishes. */
export async function startServer(
  factory: SessionFactory,
  options: ServerOptions = {},
): Promise<{ server: Server; address: ServerAddress }> {
  const server = new Server(factory, options);
  onTestFinished(() => server.close());
  const address = await server.listen();
  return { server, address };
}

/** Close a client session when the test finishes. */
export function track<T extends AttachableSession>(session: T): T {
  onTestFinished(async () => {
    await session.close({ forceAfterMs: 500 });
  });
  return session;
}
