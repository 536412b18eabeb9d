import { fork } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { connect, type Client } from '@rt/wamp';
import { Router } from '@rt/wamp/router';
import { Wampy } from 'wampy';
import WebSocket, { WebSocketServer } from 'ws';
import type { BenchCase, BenchScenario, BenchSuite, BenchTarget } from '../bench-types.js';

// WAMP over loopback WebSocket: caller -> @rt/wamp router -> callee with @rt/wamp, Autobahn|JS
// and wampy clients (caller and callee of the same library), against a raw `ws` echo baseline.
// A bare WAMP client written straight on `ws` (no checks at all) shows the floor any ws-based
// client can reach.
// The "client cost" scenarios run the router in a child process, so that the bench process does
// only the clients' work, and report the bench process's CPU time per operation.

const HOST = '127.0.0.1';
const VALUE = { text: 'a short message', n: 42, ok: true };
const SEQUENTIAL_BATCH = 200;
const IN_FLIGHT = 100;
const IN_FLIGHT_BATCH = 2_000;
const SUBSCRIBERS = 10;
const EVENT_BATCH = 500;
/** The case name of the bare-socket floor client. */
const BARE = 'bare ws json (floor)';

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
/** Autobahn|JS binds `console.warn` when loaded and warns on every deliberate close: load it with those two warnings filtered out. */
function loadAutobahnQuietly(): unknown {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (args[0] !== 'connection closed' && args[0] !== 'auto-reconnect disabled!') warn(...args);
  };
  try {
    return createRequire(import.meta.url)('autobahn');
  } finally {
    console.warn = warn;
  }
}
const autobahn = loadAutobahnQuietly() as { Connection: new (options: Record<string, unknown>) => AutobahnConnection };
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

/**
 * The floor for any client built on `ws`: WAMP JSON spoken over a bare socket with no checks,
 * no errors, no options. No real client can be cheaper than this one.
 */
const bareWsPeer: PeerFactory = async (url) => {
  const socket = new WebSocket(url, 'wamp.2.json');
  const pending = new Map<number, (message: unknown[]) => void>();
  const handlers = new Map<number, (value: unknown) => unknown>();
  let nextId = 1;
  const request = (build: (id: number) => unknown[]): Promise<unknown[]> => {
    const id = nextId++;
    socket.send(JSON.stringify(build(id)));
    return new Promise((resolve) => pending.set(id, resolve));
  };
  const welcomed = new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as unknown[];
      const code = message[0] as number;
      if (code === 36) handlers.get(message[1] as number)?.((message[4] as unknown[])[0]);
      else if (code === 68) {
        const result = handlers.get(message[2] as number)?.((message[4] as unknown[])[0]);
        socket.send(JSON.stringify([70, message[1], {}, [result]]));
      } else if (code === 2) resolve();
      else {
        const settle = pending.get(message[1] as number);
        pending.delete(message[1] as number);
        settle?.(message);
      }
    });
  });
  await once(socket, 'open');
  socket.send(JSON.stringify([1, 'realm1', { roles: { caller: {}, callee: {}, publisher: {}, subscriber: {} } }]));
  await welcomed;
  return {
    call: async (value) => ((await request((id) => [48, id, {}, 'bench.echo', [value]]))[3] as unknown[])[0],
    register: async (procedure, handler) => {
      const registered = await request((id) => [64, id, {}, procedure]);
      handlers.set(registered[2] as number, handler);
    },
    publish: (topic, value) => socket.send(JSON.stringify([16, nextId++, {}, topic, [value]])),
    subscribe: async (topic, handler) => {
      const subscribed = await request((id) => [32, id, {}, topic]);
      handlers.set(subscribed[2] as number, handler);
    },
    close: async () => {
      const closed = once(socket, 'close');
      socket.close();
      await closed;
    },
  };
};

/** A router to bench against: its WebSocket URL and how to stop it. */
interface RunningRouter {
  url: string;
  close(): Promise<void>;
}

/** Set in the environment of the child process that serves a router for the "client cost" scenarios. */
const ROUTER_CHILD_ENV = 'RT_WAMP_BENCH_ROUTER';

async function startRouter(): Promise<RunningRouter> {
  const router = new Router({ realms: ['realm1'] });
  const address = await router.listen({ host: HOST, port: 0 });
  return { url: address.url, close: () => router.close() };
}

/** In the child process: serve a router, tell the parent its URL, stop when the parent lets go. */
async function serveRouterToParent(send: (message: unknown) => void): Promise<void> {
  const { url, close } = await startRouter();
  process.once('disconnect', () => void close().finally(() => process.exit(0)));
  send({ url });
}

if (process.env[ROUTER_CHILD_ENV] === '1' && process.send !== undefined) {
  const send = process.send.bind(process);
  void serveRouterToParent((message) => send(message));
}

/** The same router in a child process of its own (this file, run with the same Node flags). */
async function startRouterProcess(): Promise<RunningRouter> {
  const child = fork(fileURLToPath(import.meta.url), [], {
    env: { ...process.env, [ROUTER_CHILD_ENV]: '1' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const [message] = (await Promise.race([
    once(child, 'message'),
    once(child, 'exit').then(([code]) => {
      throw new Error(`the router process exited with ${String(code)} before listening`);
    }),
  ])) as [{ url: string }];
  return {
    url: message.url,
    async close() {
      const exited = once(child, 'exit');
      child.disconnect();
      await exited;
    },
  };
}

/** Where a case's router runs. */
type RouterHost = 'in-process' | 'child-process';

const routerOn = (host: RouterHost): Promise<RunningRouter> => (host === 'in-process' ? startRouter() : startRouterProcess());

/** CPU time (user + system) this process spends per operation, summed over every batch. */
class ClientCpu {
  #micros = 0;
  #ops = 0;

  async measure(batch: () => Promise<number>): Promise<number> {
    const before = process.cpuUsage();
    const ops = await batch();
    const used = process.cpuUsage(before);
    this.#micros += used.user + used.system;
    this.#ops += ops;
    return ops;
  }

  columns(unit: string): Record<string, number> {
    const perOp = this.#micros / this.#ops;
    return { [`client CPU µs/${unit}`]: Math.round(perOp * 100) / 100, [`${unit}s per client CPU-s`]: Math.round(1e6 / perOp) };
  }
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

function rpcCase(name: string, factory: PeerFactory, total: number, concurrency: number, host: RouterHost = 'in-process'): BenchCase {
  return {
    name,
    async setup(): Promise<BenchTarget> {
      const router = await routerOn(host);
      const callee = await factory(router.url);
      await callee.register('bench.echo', (value) => value);
      const caller = await factory(router.url);
      const cpu = new ClientCpu();
      return {
        run: () => (host === 'in-process' ? callMany(caller, total, concurrency) : cpu.measure(() => callMany(caller, total, concurrency))),
        async teardown() {
          await caller.close();
          await callee.close();
          await router.close();
        },
        ...(host === 'in-process' ? {} : { extra: () => cpu.columns('call') }),
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
      rpcCase(BARE, bareWsPeer, total, concurrency),
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

function eventCase(name: string, factory: PeerFactory, host: RouterHost = 'in-process'): BenchCase {
  return {
    name,
    async setup(): Promise<BenchTarget> {
      const router = await routerOn(host);
      const counter = new DeliveryCounter();
      const subscribers: Peer[] = [];
      for (let i = 0; i < SUBSCRIBERS; i++) {
        const subscriber = await factory(router.url);
        await subscriber.subscribe('bench.news', () => counter.hit());
        subscribers.push(subscriber);
      }
      const publisher = await factory(router.url);
      const batch = async (): Promise<number> => {
        const arrived = counter.expect(EVENT_BATCH * SUBSCRIBERS);
        for (let i = 0; i < EVENT_BATCH; i++) publisher.publish('bench.news', VALUE);
        await arrived;
        return EVENT_BATCH * SUBSCRIBERS;
      };
      const cpu = new ClientCpu();
      return {
        run: () => (host === 'in-process' ? batch() : cpu.measure(batch)),
        async teardown() {
          for (const peer of [publisher, ...subscribers]) await peer.close();
          await router.close();
        },
        ...(host === 'in-process' ? {} : { extra: () => cpu.columns('event') }),
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

/** The clients alone: the router runs in a child process, the table adds this process's CPU per operation. */
const clientCostRpc: BenchScenario = {
  name: `WAMP RPC client cost, ${IN_FLIGHT} calls in flight (router in its own process)`,
  unit: 'call',
  baseline: 'autobahn 22 json',
  cases: [
    rpcCase('@rt/wamp json', ours('json'), IN_FLIGHT_BATCH, IN_FLIGHT, 'child-process'),
    rpcCase('@rt/wamp msgpack', ours('msgpack'), IN_FLIGHT_BATCH, IN_FLIGHT, 'child-process'),
    rpcCase('autobahn 22 json', autobahnPeer, IN_FLIGHT_BATCH, IN_FLIGHT, 'child-process'),
    rpcCase('wampy 8 json', wampyPeer, IN_FLIGHT_BATCH, IN_FLIGHT, 'child-process'),
    rpcCase(BARE, bareWsPeer, IN_FLIGHT_BATCH, IN_FLIGHT, 'child-process'),
  ],
};

const clientCostEvents: BenchScenario = {
  name: `WAMP events client cost, ${SUBSCRIBERS} subscribers (router in its own process)`,
  unit: 'event',
  baseline: 'autobahn 22 json',
  cases: [
    eventCase('@rt/wamp json', ours('json'), 'child-process'),
    eventCase('@rt/wamp msgpack', ours('msgpack'), 'child-process'),
    eventCase('autobahn 22 json', autobahnPeer, 'child-process'),
    eventCase('wampy 8 json', wampyPeer, 'child-process'),
    eventCase(BARE, bareWsPeer, 'child-process'),
  ],
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
        eventCase(BARE, bareWsPeer),
      ],
    },
    clientCostRpc,
    clientCostEvents,
  ],
};
