import { once } from 'node:events';
import { createRequire } from 'node:module';
import { connect, type Client } from '@rt/wamp';
import { Router } from '@rt/wamp/router';
import { Wampy } from 'wampy';
import WebSocket, { WebSocketServer } from 'ws';
import type { BenchCase, BenchScenario, BenchSuite, BenchTarget } from '../bench-types.js';

// WAMP over loopback WebSocket: caller -> @rt/wamp router -> callee with @rt/wamp, Autobahn|JS
// and wampy clients (caller and callee of the same library), against a raw `ws` echo baseline.

const HOST = '127.0.0.1';
const VALUE = { text: 'a short message', n: 42, ok: true };
const SEQUENTIAL_BATCH = 200;
const IN_FLIGHT = 100;
const IN_FLIGHT_BATCH = 2_000;
const SUBSCRIBERS = 10;
const EVENT_BATCH = 500;

/** The slice of Autobahn|JS this suite uses (the package ships no types). */
interface AutobahnSession {
  register(procedure: string, endpoint: (args: unknown[]) => unknown): Promise<unknown>;
  call(procedure: string, args: unknown[]): PromiseLike<unknown>;
  publish(topic: string, args: unknown[]): unknown;
  subscribe(topic: string, handler: (args: unknown[]) => void): Promise<unknown>;
}
interface AutobahnConnection {
  onopen: (session: AutobahnSession) => void;
  onclose: (reason: string) => boolean;
  open(): void;
  close(): void;
}
const autobahn = createRequire(import.meta.url)('autobahn') as {
  Connection: new (options: Record<string, unknown>) => AutobahnConnection;
};
/** wampy's typings want a browser-like WebSocket constructor; the `ws` class is one at run time. */
const wampyWebSocket = WebSocket as unknown as NonNullable<NonNullable<ConstructorParameters<typeof Wampy>[1]>['ws']>;

/** One connected peer of one implementation: call, publish, subscribe, close. */
interface Peer {
  call(value: unknown): Promise<unknown>;
  register(procedure: string, handler: (value: unknown) => unknown): Promise<void>;
  publish(topic: string, value: unknown): void;
  subscribe(topic: string, handler: (value: unknown) => void): Promise<void>;
  close(): Promise<void>;
}

type PeerFactory = (url: string) => Promise<Peer>;

const ours = (serializer: 'json' | 'msgpack'): PeerFactory => async (url) => {
  const client: Client = await connect(url, { realm: 'realm1', serializer });
  return {
    call: async (value) => (await client.call('bench.echo', [value])).args[0],
    register: async (procedure, handler) => {
      await client.register(procedure, ({ args }) => handler(args[0]));
    },
    publish: (topic, value) => void client.publish(topic, [value]),
    subscribe: async (topic, handler) => {
      await client.subscribe(topic, ({ args }) => handler(args[0]));
    },
    close: () => client.close(),
  };
};

const autobahnPeer: PeerFactory = (url) =>
  new Promise((resolve, reject) => {
    const connection = new autobahn.Connection({ url, realm: 'realm1', max_retries: 0 });
    connection.onclose = (reason) => {
      reject(new Error(`autobahn closed: ${reason}`));
      return true;
    };
    connection.onopen = (session) => {
      resolve({
        call: async (value) => session.call('bench.echo', [value]),
        register: async (procedure, handler) => {
          await session.register(procedure, (args) => handler(args[0]));
        },
        publish: (topic, value) => void session.publish(topic, [value]),
        subscribe: async (topic, handler) => {
          await session.subscribe(topic, (args) => handler(args[0]));
        },
        close: () =>
          new Promise<void>((done) => {
            connection.onclose = () => {
              done();
              return true;
            };
            connection.close();
          }),
      });
    };
    connection.open();
  });

const wampyPeer: PeerFactory = async (url) => {
  const wampy = new Wampy(url, { realm: 'realm1', ws: wampyWebSocket, autoReconnect: false });
  await wampy.connect();
  return {
    call: async (value) => (await wampy.call('bench.echo', [value])).argsList?.[0],
    register: async (procedure, handler) => {
      await wampy.register(procedure, (data) => ({ argsList: [handler(data.argsList?.[0])] }));
    },
    publish: (topic, value) => void wampy.publish(topic, [value]),
    subscribe: async (topic, handler) => {
      await wampy.subscribe(topic, (data: { argsList?: unknown[] }) => handler(data.argsList?.[0]));
    },
    close: async () => {
      await wampy.disconnect();
    },
  };
};

async function startRouter(): Promise<{ router: Router; url: string }> {
  const router = new Router({ realms: ['realm1'] });
  const address = await router.listen({ host: HOST, port: 0 });
  return { router, url: address.url };
}

/** Run `total` calls with at most `concurrency` pending at once. */
async function callMany(peer: Peer, total: number, concurrency: number): Promise<number> {
  let started = 0;
  const worker = async (): Promise<void> => {
    while (started < total) {
      started++;
      await peer.call(VALUE);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  return total;
}

function rpcCase(name: string, factory: PeerFactory, total: number, concurrency: number): BenchCase {
  return {
    name,
    async setup(): Promise<BenchTarget> {
      const { router, url } = await startRouter();
      const callee = await factory(url);
      await callee.register('bench.echo', (value) => value);
      const caller = await factory(url);
      return {
        run: () => callMany(caller, total, concurrency),
        async teardown() {
          await caller.close();
          await callee.close();
          await router.close();
        },
      };
    },
  };
}

/** The baseline: a `ws` server echoing JSON text, the client matching replies by id. */
function rawEchoCase(total: number, concurrency: number): BenchCase {
  return {
    name: 'raw ws echo',
    async setup(): Promise<BenchTarget> {
      const server = new WebSocketServer({ host: HOST, port: 0 });
      await once(server, 'listening');
      server.on('connection', (socket) => socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary })));
      const { port } = server.address() as { port: number };
      const socket = new WebSocket(`ws://${HOST}:${port}`);
      await once(socket, 'open');
      const waiting = new Map<number, (value: unknown) => void>();
      let nextId = 0;
      socket.on('message', (data) => {
        const reply = JSON.parse(String(data)) as [number, unknown];
        waiting.get(reply[0])?.(reply[1]);
        waiting.delete(reply[0]);
      });
      const peer = {
        call(value: unknown): Promise<unknown> {
          const id = nextId++;
          socket.send(JSON.stringify([id, value]));
          return new Promise((resolve) => waiting.set(id, resolve));
        },
      } as Peer;
      return {
        run: () => callMany(peer, total, concurrency),
        async teardown() {
          socket.close();
          for (const client of server.clients) client.terminate();
          await new Promise<void>((resolve) => server.close(() => resolve()));
        },
      };
    },
  };
}

function rpcScenario(name: string, total: number, concurrency: number): BenchScenario {
  return {
    name,
    unit: 'call',
    baseline: 'raw ws echo',
    cases: [
      rawEchoCase(total, concurrency),
      rpcCase('@rt/wamp json', ours('json'), total, concurrency),
      rpcCase('@rt/wamp msgpack', ours('msgpack'), total, concurrency),
      rpcCase('autobahn 22 json', autobahnPeer, total, concurrency),
      rpcCase('wampy 8 json', wampyPeer, total, concurrency),
    ],
  };
}

/** Counts deliveries and resolves when `expected` arrived. */
class DeliveryCounter {
  #count = 0;
  #target = Number.POSITIVE_INFINITY;
  #done: (() => void) | undefined;

  hit(): void {
    this.#count++;
    if (this.#count >= this.#target) this.#done?.();
  }

  expect(deliveries: number): Promise<void> {
    this.#target = this.#count + deliveries;
    return new Promise((resolve) => {
      this.#done = resolve;
    });
  }
}

function eventCase(name: string, factory: PeerFactory): BenchCase {
  return {
    name,
    async setup(): Promise<BenchTarget> {
      const { router, url } = await startRouter();
      const counter = new DeliveryCounter();
      const subscribers: Peer[] = [];
      for (let i = 0; i < SUBSCRIBERS; i++) {
        const subscriber = await factory(url);
        await subscriber.subscribe('bench.news', () => counter.hit());
        subscribers.push(subscriber);
      }
      const publisher = await factory(url);
      return {
        async run() {
          const arrived = counter.expect(EVENT_BATCH * SUBSCRIBERS);
          for (let i = 0; i < EVENT_BATCH; i++) publisher.publish('bench.news', VALUE);
          await arrived;
          return EVENT_BATCH * SUBSCRIBERS;
        },
        async teardown() {
          for (const peer of [publisher, ...subscribers]) await peer.close();
          await router.close();
        },
      };
    },
  };
}

/** The baseline: a `ws` server relaying each message to 10 sockets. */
const rawBroadcastCase: BenchCase = {
  name: 'raw ws broadcast',
  async setup(): Promise<BenchTarget> {
    const server = new WebSocketServer({ host: HOST, port: 0 });
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    const counter = new DeliveryCounter();
    const subscribers: WebSocket[] = [];
    const serverSide: WebSocket[] = [];
    server.on('connection', (socket) => {
      serverSide.push(socket);
      socket.on('message', (data) => {
        for (const target of serverSide.slice(0, SUBSCRIBERS)) target.send(String(data));
      });
    });
    for (let i = 0; i < SUBSCRIBERS + 1; i++) {
      const socket = new WebSocket(`ws://${HOST}:${port}`);
      await once(socket, 'open');
      if (i < SUBSCRIBERS) socket.on('message', (data) => {
        JSON.parse(String(data));
        counter.hit();
      });
      subscribers.push(socket);
    }
    const publisher = subscribers[SUBSCRIBERS] as WebSocket;
    return {
      async run() {
        const arrived = counter.expect(EVENT_BATCH * SUBSCRIBERS);
        for (let i = 0; i < EVENT_BATCH; i++) publisher.send(JSON.stringify(['bench.news', VALUE]));
        await arrived;
        return EVENT_BATCH * SUBSCRIBERS;
      },
      async teardown() {
        for (const socket of subscribers) socket.close();
        for (const socket of server.clients) socket.terminate();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      },
    };
  },
};

export const suite: BenchSuite = {
  name: 'wamp',
  scenarios: [
    rpcScenario('WAMP RPC, one call at a time (caller -> router -> callee)', SEQUENTIAL_BATCH, 1),
    rpcScenario(`WAMP RPC, ${IN_FLIGHT} calls in flight`, IN_FLIGHT_BATCH, IN_FLIGHT),
    {
      name: `WAMP events delivered to ${SUBSCRIBERS} subscribers`,
      unit: 'event',
      baseline: 'raw ws broadcast',
      cases: [
        rawBroadcastCase,
        eventCase('@rt/wamp json', ours('json')),
        eventCase('@rt/wamp msgpack', ours('msgpack')),
        eventCase('autobahn 22 json', autobahnPeer),
        eventCase('wampy 8 json', wampyPeer),
      ],
    },
  ],
};
