import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { readFile } from 'node:fs/promises';
import { chromiumAvailable, launchChromium, peerAvailable, servePage, useTeardown } from '@rt/test-harness';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { ConnectionError } from '@rt/transport';
import { DDPError, DDPServer, type DDPConnection, type DDPServerOptions } from '../src/server/index.js';
import { installSockJS, sockjsSettings } from '../src/server/sockjs-endpoint.js';
import type { SockJSTransport } from '../src/server/sockjs-transport.js';
import { DAY, exerciseItemsWithOort, itemMethods, npmPackage, Table, type OortDDPClient } from './helpers.js';

const require = createRequire(import.meta.url);

type Json = Record<string, unknown>;

interface SockJSClient {
  readonly transport?: string;
  onopen: (() => void) | null;
  onmessage: ((event: { data: string }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  send(data: string): void;
  close(): void;
}
type SockJSClientConstructor = new (url: string, reserved: null, options: { transports: string[] }) => SockJSClient;

const hasSockJSClient = await peerAvailable('sockjs-client', npmPackage('sockjs-client'));
const hasDDP = await peerAvailable('ddp', npmPackage('ddp'));

const TIMEOUT_MS = 5_000;

/** Resolves when `register` calls back. */
function once<T = void>(register: (resolve: (value: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve) => register(resolve));
}

/** A DDP server with an `items` publication over a table, a few methods, and its stops and closes observable. */
function ddpServer(options: DDPServerOptions = {}): {
  server: DDPServer;
  table: Table;
  stopped: Promise<void>;
  connected: Promise<DDPConnection>;
  disconnected: Promise<void>;
  /** One promise per connection so far, resolved when it closes. */
  closes: Promise<void>[];
} {
  const table = new Table();
  table.insert('a', { name: 'A', at: new Date(1000) });
  let markConnected!: (connection: DDPConnection) => void;
  const connected = new Promise<DDPConnection>((resolve) => (markConnected = resolve));
  const closes: Promise<void>[] = [];
  const onConnection = (connection: DDPConnection): void => {
    closes.push(once((resolve) => connection.onClose(resolve)));
    markConnected(connection);
  };
  const server = new DDPServer({ onError: () => undefined, sockjs: { disconnectDelayMs: 1000 }, onConnection, ...options });
  let markStopped!: () => void;
  const stopped = new Promise<void>((resolve) => (markStopped = resolve));
  const disconnected = connected.then((connection) => once((resolve) => connection.onClose(resolve)));
  server.publish('items', function () {
    this.onStop(markStopped);
    table.publishTo(this, 'items');
  });
  server.methods({
    ...itemMethods(table),
    whoami() {
      return { userId: this.userId, address: this.connection.clientAddress ?? null, forwarded: this.connection.httpHeaders['x-forwarded-for'] ?? null };
    },
    limited() {
      return 'ran';
    },
  });
  useTeardown(() => server.close());
  return { server, table, stopped, connected, disconnected: disconnected.then(() => undefined), closes };
}

/** An HTTP server on loopback port 0 whose own handler answers `plain http`; requests are logged. */
async function sharedHttpServer(): Promise<{ http: Server; port: number; requests: string[] }> {
  const http = createServer((_request, response) => response.end('plain http'));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  useTeardown(
    () =>
      new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      }),
  );
  return { http, port: (http.address() as { port: number }).port, requests: [] };
}

/** Log every request and upgrade the server sees (a listener added after the endpoint sees them all). */
function logRequests(http: Server, requests: string[]): void {
  http.on('request', (request: IncomingMessage) => requests.push(`${request.method} ${request.url}`));
  http.on('upgrade', (request: IncomingMessage) => requests.push(`UPGRADE ${request.url}`));
}

/** A DDP peer over a real SockJS client (`sockjs-client`), with its transport forced. */
class SockPeer {
  readonly socket: SockJSClient;
  readonly closed: Promise<{ code: number; reason: string }>;
  answerPings = true;
  /** Pings answered so far. */
  pings = 0;
  readonly #inbox: Json[] = [];
  #wake: (() => void) | undefined;
  #isClosed = false;

  private constructor(socket: SockJSClient) {
    this.socket = socket;
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data) as Json;
      if (message['msg'] === 'ping' && this.answerPings) {
        this.pings += 1;
        this.send({ msg: 'pong' });
      } else {
        this.#inbox.push(message);
      }
      this.#wake?.();
    };
    this.closed = once((resolve) => {
      socket.onclose = (event) => {
        this.#isClosed = true;
        this.#wake?.();
        resolve({ code: event.code, reason: event.reason });
      };
    });
  }

  static async open(url: string, transport: string): Promise<SockPeer> {
    const SockJS = require('sockjs-client') as SockJSClientConstructor;
    const socket = new SockJS(url, null, { transports: [transport] });
    const peer = new SockPeer(socket);
    useTeardown(() => socket.close());
    await new Promise<void>((resolve, reject) => {
      socket.onopen = () => resolve();
      void peer.closed.then((event) => reject(new Error(`SockJS did not open: ${event.code} ${event.reason}`)));
    });
    return peer;
  }

  send(message: Json | string): void {
    this.socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** The first message (in arrival order, kept ones first) of type `msg` whose fields equal `where`. */
  async expect(msg: string, where: Json = {}): Promise<Json> {
    const matches = (message: Json): boolean =>
      message['msg'] === msg && Object.entries(where).every(([key, value]) => JSON.stringify(message[key]) === JSON.stringify(value));
    let found: Json | undefined;
    await this.#until(() => {
      const index = this.#inbox.findIndex(matches);
      if (index >= 0) found = this.#inbox.splice(index, 1)[0];
      return found !== undefined;
    }, `${msg} ${JSON.stringify(where)}`);
    return found as Json;
  }

  /** Resolves once `count` pings were answered. */
  pinged(count: number): Promise<void> {
    return this.#until(() => this.pings >= count, `${count} pings`);
  }

  /** Wait, message by message, until `done()` holds; fails on close or after the timeout. */
  async #until(done: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + TIMEOUT_MS;
    while (!done()) {
      if (this.#isClosed) throw new Error(`closed while waiting for ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${what}; received ${JSON.stringify(this.#inbox)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Messages received and not taken. */
  get pending(): readonly Json[] {
    return this.#inbox;
  }

  async handshake(): Promise<string> {
    this.send({ msg: 'connect', version: '1', support: ['1', 'pre2', 'pre1'] });
    return (await this.expect('connected'))['session'] as string;
  }
}

/** One SockJS session driven by hand over HTTP (xhr-polling), to see the frames themselves. */
class RawSession {
  readonly url: string;
  readonly headers: Record<string, string>;

  constructor(base: string, headers: Record<string, string> = {}) {
    this.url = `${base}/000/${randomUUID().replaceAll('-', '')}`;
    this.headers = headers;
  }

  /** One xhr-polling request: the frame the server answers with. */
  async poll(): Promise<string> {
    const response = await fetch(`${this.url}/xhr`, { method: 'POST', headers: this.headers });
    return response.text();
  }

  /** One xhr_send request with `body` as is. */
  send(body: string): Promise<Response> {
    return fetch(`${this.url}/xhr_send`, { method: 'POST', body, headers: { ...this.headers, 'Content-Type': 'text/plain' } });
  }

  /** Send DDP messages, each as one SockJS message. */
  async sendDDP(...messages: (Json | string)[]): Promise<number> {
    const response = await this.send(JSON.stringify(messages.map((message) => (typeof message === 'string' ? message : JSON.stringify(message)))));
    await response.arrayBuffer();
    return response.status;
  }

  /** Poll until the DDP message of type `msg` arrives; the DDP messages seen on the way. */
  async pollFor(msg: string): Promise<Json[]> {
    const seen: Json[] = [];
    for (;;) {
      const frame = await this.poll();
      if (frame.startsWith('c')) throw new Error(`session closed: ${frame}`);
      if (frame.startsWith('a')) {
        for (const text of JSON.parse(frame.slice(1)) as string[]) seen.push(JSON.parse(text) as Json);
        if (seen.some((message) => message['msg'] === msg)) return seen;
      }
    }
  }
}

/** Close `server` while `session` polls: the poll carries the close frame. */
async function closeDuringPoll(server: DDPServer, session: RawSession): Promise<string> {
  const [frame] = await Promise.all([session.poll(), server.close()]);
  return frame;
}

const TRANSPORTS = [
  { name: 'websocket', request: /^UPGRADE \/sockjs\/[^/]+\/[^/]+\/websocket$/ },
  { name: 'xhr-streaming', request: /^POST \/sockjs\/[^/]+\/[^/]+\/xhr_streaming/ },
  { name: 'xhr-polling', request: /^POST \/sockjs\/[^/]+\/[^/]+\/xhr(\?|$)/ },
] as const;

describe('the SockJS endpoint', () => {
  it('answers /sockjs/info and the welcome page on the server’s own port, beside /websocket', async () => {
    const { server } = ddpServer();
    const { host, port } = await server.listen({ port: 0 });
    const base = `http://${host}:${port}`;
    const info = await fetch(`${base}/sockjs/info`);
    expect(info.status).toBe(200);
    expect(info.headers.get('access-control-allow-origin')).toBe('*');
    expect(await info.json()).toEqual({ websocket: true, origins: ['*:*'], cookie_needed: false, entropy: expect.any(Number) });
    const fromPage = await fetch(`${base}/sockjs/info`, { headers: { Origin: 'http://app.example' } });
    expect(fromPage.headers.get('access-control-allow-origin')).toBe('http://app.example');
    expect(fromPage.headers.get('access-control-allow-credentials')).toBe('true');
    expect(await (await fetch(`${base}/sockjs`)).text()).toBe('Welcome to SockJS!\n');
    const elsewhere = await fetch(`${base}/other`);
    expect(elsewhere.status).toBe(426);
    await elsewhere.arrayBuffer();

    const socket = new WebSocket(`ws://${host}:${port}/websocket`);
    useTeardown(() => socket.terminate());
    await once((resolve) => socket.once('open', resolve));
    socket.send(JSON.stringify({ msg: 'connect', version: '1', support: ['1'] }));
    const reply = await once<string>((resolve) => socket.once('message', (data: Buffer) => resolve(data.toString())));
    expect(JSON.parse(reply)).toMatchObject({ msg: 'connected' });
  });

  it('follows its options: prefix, no WebSocket transports, JSESSIONID cookie; `sockjs: false` serves none', async () => {
    const { server } = ddpServer({ sockjs: { prefix: '/app/sockjs', websocket: false, jsessionid: true, disconnectDelayMs: 1000 } });
    const { port } = await server.listen({ port: 0 });
    const info = await fetch(`http://127.0.0.1:${port}/app/sockjs/info`);
    expect(await info.json()).toMatchObject({ websocket: false, cookie_needed: true });
    const moved = await fetch(`http://127.0.0.1:${port}/sockjs/info`);
    expect(moved.status).toBe(426);
    await moved.arrayBuffer();
    const poll = await fetch(`http://127.0.0.1:${port}/app/sockjs/000/jsid/xhr`, { method: 'POST' });
    expect(poll.headers.get('set-cookie')).toMatch(/^JSESSIONID=dummy; path=\//);
    expect(await poll.text()).toBe('o\n');
    const [closeFrame] = await Promise.all([
      fetch(`http://127.0.0.1:${port}/app/sockjs/000/jsid/xhr`, { method: 'POST' }).then((response) => response.text()),
      server.close(),
    ]);
    expect(closeFrame).toBe('c[1001,"server shutting down"]\n');

    const { server: plain } = ddpServer({ sockjs: false });
    const { port: plainPort } = await plain.listen({ port: 0 });
    const none = await fetch(`http://127.0.0.1:${plainPort}/sockjs/info`);
    expect(none.status).toBe(426);
    await none.arrayBuffer();

    expect(() => new DDPServer({ sockjs: { prefix: 'sockjs/' } })).toThrow(RangeError);
    expect(() => new DDPServer({ sockjs: { disconnectDelayMs: 0 } })).toThrow(RangeError);
    const { server: clash } = ddpServer();
    await expect(clash.listen({ port: 0, path: '/sockjs/websocket' })).rejects.toThrow(/under the SockJS prefix/);
    await expect(clash.listen({ port: plainPort })).rejects.toThrow(/EADDRINUSE/);
    const { port: freePort } = await clash.listen({ port: 0 });
    expect(await (await fetch(`http://127.0.0.1:${freePort}/sockjs/info`)).json()).toMatchObject({ websocket: true });
  });

  it('goes before a shared server’s own handlers, and hands the prefix back after close()', async () => {
    const { http, port } = await sharedHttpServer();
    const { server } = ddpServer();
    await server.attach(http);
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('plain http');
    expect(await (await fetch(`http://127.0.0.1:${port}/sockjs/info`)).json()).toMatchObject({ websocket: true });
    const { server: second } = ddpServer();
    await expect(second.attach(http, { path: '/second' })).rejects.toThrow(/already serves \/sockjs/);
    await server.close();
    expect(await (await fetch(`http://127.0.0.1:${port}/sockjs/info`)).text()).toBe('plain http');
    const { server: third } = ddpServer();
    await third.attach(http, { path: '/third' });
    expect(await (await fetch(`http://127.0.0.1:${port}/sockjs/info`)).json()).toMatchObject({ websocket: true });
  });

  it('reports the socket’s peer as the client address and passes X-Forwarded-For on in the headers, as /websocket does', async () => {
    const { server } = ddpServer();
    const { port } = await server.listen({ port: 0 });
    const session = new RawSession(`http://127.0.0.1:${port}/sockjs`, { 'X-Forwarded-For': '203.0.113.9' });
    expect(await session.poll()).toBe('o\n');
    expect(await session.sendDDP({ msg: 'connect', version: '1', support: ['1'] }, { msg: 'method', id: 'w', method: 'whoami', params: [] })).toBe(204);
    const overSockJS = (await session.pollFor('result')).find((message) => message['msg'] === 'result');

    const socket = new WebSocket(`ws://127.0.0.1:${port}/websocket`, { headers: { 'X-Forwarded-For': '203.0.113.9' } });
    useTeardown(() => socket.terminate());
    const replies: Json[] = [];
    const result = once<Json>((resolve) =>
      socket.on('message', (data: Buffer) => {
        const message = JSON.parse(data.toString()) as Json;
        replies.push(message);
        if (message['msg'] === 'result') resolve(message);
      }),
    );
    await once((resolve) => socket.once('open', resolve));
    socket.send(JSON.stringify({ msg: 'connect', version: '1', support: ['1'] }));
    socket.send(JSON.stringify({ msg: 'method', id: 'w', method: 'whoami', params: [] }));
    const overWebSocket = await result;
    expect(overSockJS).toEqual({ msg: 'result', id: 'w', result: { userId: null, address: '127.0.0.1', forwarded: '203.0.113.9' } });
    expect(overWebSocket).toEqual(overSockJS);
    expect(await closeDuringPoll(server, session)).toBe('c[1001,"server shutting down"]\n');
  });
});

describe.skipIf(!hasSockJSClient)('DDP over SockJS with sockjs-client', () => {
  describe.each(TRANSPORTS)('transport $name', ({ name, request }) => {
    it('subscribes, follows added/changed/removed, calls methods with EJSON dates and updated, and answers malformed input', async () => {
      const { http, port, requests } = await sharedHttpServer();
      const { server } = ddpServer();
      await server.attach(http);
      logRequests(http, requests);
      const peer = await SockPeer.open(`http://127.0.0.1:${port}/sockjs`, name);
      expect(peer.socket.transport).toBe(name);
      expect(requests.some((line) => request.test(line))).toBe(true);

      await peer.handshake();
      peer.send({ msg: 'sub', id: 's1', name: 'items', params: [] });
      expect(await peer.expect('added', { collection: 'items', id: 'a' })).toMatchObject({ fields: { name: 'A', at: { $date: 1000 } } });
      await peer.expect('ready', { subs: ['s1'] });

      peer.send({ msg: 'method', id: 'm1', method: 'add', params: ['b', 'B'] });
      expect(await peer.expect('added', { id: 'b' })).toMatchObject({ collection: 'items', fields: { name: 'B' } });
      expect(await peer.expect('result', { id: 'm1' })).toEqual({ msg: 'result', id: 'm1', result: 'added b' });
      await peer.expect('updated', { methods: ['m1'] });
      peer.send({ msg: 'method', id: 'm2', method: 'rename', params: ['a', 'A2'] });
      expect(await peer.expect('changed', { id: 'a' })).toEqual({ msg: 'changed', collection: 'items', id: 'a', fields: { name: 'A2' }, cleared: ['at'] });
      await peer.expect('result', { id: 'm2' });
      peer.send({ msg: 'method', id: 'm3', method: 'drop', params: ['b'] });
      expect(await peer.expect('removed', { id: 'b' })).toEqual({ msg: 'removed', collection: 'items', id: 'b' });
      await peer.expect('updated', { methods: ['m3'] });
      peer.send({ msg: 'method', id: 'm4', method: 'nextDay', params: [{ $date: 0 }] });
      expect(await peer.expect('result', { id: 'm4' })).toEqual({ msg: 'result', id: 'm4', result: { $date: DAY } });

      peer.send('this is not JSON');
      expect(await peer.expect('error')).toMatchObject({ reason: expect.stringMatching(/^Parse error/) });
      peer.send({ msg: 'method', id: 7, method: 'add' });
      expect(await peer.expect('error')).toMatchObject({ offendingMessage: { msg: 'method', id: 7, method: 'add' } });
      peer.send({ msg: 'method', id: 'm5', method: 'missing', params: [] });
      expect(await peer.expect('result', { id: 'm5' })).toMatchObject({ error: { error: 404 } });
      peer.send({ msg: 'method', id: 'm6', method: 'add', params: ['c', 'C'] });
      expect(await peer.expect('result', { id: 'm6' })).toMatchObject({ result: 'added c' });
      expect(peer.pending.filter((message) => message['msg'] === 'error')).toEqual([]);
    });

    it('sees the client leave: its publications stop and the connection closes', async () => {
      const { server, stopped, disconnected } = ddpServer();
      const { port } = await server.listen({ port: 0 });
      const peer = await SockPeer.open(`http://127.0.0.1:${port}/sockjs`, name);
      await peer.handshake();
      peer.send({ msg: 'sub', id: 's1', name: 'items', params: [] });
      await peer.expect('ready');
      expect(server.connectionCount).toBe(1);
      peer.socket.close();
      await stopped;
      await disconnected;
      expect(server.connectionCount).toBe(0);
    });

    it('server.close() ends the session with 1001, stops publications, and resolves', async () => {
      const { server, stopped } = ddpServer();
      const { port } = await server.listen({ port: 0 });
      const peer = await SockPeer.open(`http://127.0.0.1:${port}/sockjs`, name);
      await peer.handshake();
      peer.send({ msg: 'sub', id: 's1', name: 'items', params: [] });
      await peer.expect('ready');
      await server.close();
      expect(await peer.closed).toEqual({ code: 1001, reason: 'server shutting down' });
      await stopped;
      expect(server.connectionCount).toBe(0);
    });
  });

  it('logs in, refuses calls over a rate limit, and keeps the message size limit (xhr-streaming)', async () => {
    const { server, disconnected } = ddpServer({
      limits: { maxMessageBytes: 2_000 },
      login: (request) => {
        if (request.kind === 'password' && request.user.username === 'ada') return { userId: 'ada', token: 'token-1' };
        throw new DDPError(403, 'Incorrect password');
      },
    });
    server.rateLimiter.addRule({ type: 'method', name: 'limited' }, 1, 60_000);
    const { port } = await server.listen({ port: 0 });
    const peer = await SockPeer.open(`http://127.0.0.1:${port}/sockjs`, 'xhr-streaming');
    await peer.handshake();
    const password = { digest: 'f'.repeat(64), algorithm: 'sha-256' };
    peer.send({ msg: 'method', id: 'bad', method: 'login', params: [{ user: { username: 'bob' }, password }] });
    expect(await peer.expect('result', { id: 'bad' })).toMatchObject({ error: { error: 403, reason: 'Incorrect password' } });
    peer.send({ msg: 'method', id: 'in', method: 'login', params: [{ user: { username: 'ada' }, password }] });
    expect(await peer.expect('result', { id: 'in' })).toMatchObject({ result: { id: 'ada', token: 'token-1' } });
    peer.send({ msg: 'method', id: 'me', method: 'whoami', params: [] });
    expect(await peer.expect('result', { id: 'me' })).toMatchObject({ result: { userId: 'ada' } });

    peer.send({ msg: 'method', id: 'l1', method: 'limited', params: [] });
    expect(await peer.expect('result', { id: 'l1' })).toMatchObject({ result: 'ran' });
    peer.send({ msg: 'method', id: 'l2', method: 'limited', params: [] });
    expect(await peer.expect('result', { id: 'l2' })).toMatchObject({ error: { error: 'too-many-requests' } });

    peer.send({ msg: 'method', id: 'big', method: 'add', params: ['x', 'x'.repeat(3_000)] });
    expect(await peer.expect('error')).toMatchObject({ reason: expect.stringMatching(/^Message too large/) });
    expect(await peer.closed).toEqual({ code: 1009, reason: 'message too large' });
    await disconnected;
  });

  it.each(['websocket', 'xhr-polling'])('keeps a %s client that answers heartbeats, and drops it once it stops', async (transport) => {
    const { server, stopped, disconnected } = ddpServer({ heartbeatIntervalMs: 50, heartbeatTimeoutMs: 600 });
    const { port } = await server.listen({ port: 0 });
    const peer = await SockPeer.open(`http://127.0.0.1:${port}/sockjs`, transport);
    await peer.handshake();
    peer.send({ msg: 'sub', id: 's1', name: 'items', params: [] });
    await peer.expect('ready');
    await peer.pinged(3);
    peer.send({ msg: 'method', id: 'alive', method: 'whoami', params: [] });
    await peer.expect('result', { id: 'alive' });
    peer.answerPings = false;
    await peer.expect('ping');
    await disconnected;
    await stopped;
    expect((await peer.closed).code).toBe(1006);
  });
});

describe('SockJS frames and limits', () => {
  it('answers non-text SockJS messages and broken frames, and keeps serving', async () => {
    const { server } = ddpServer();
    const { port } = await server.listen({ port: 0 });
    const session = new RawSession(`http://127.0.0.1:${port}/sockjs`);
    expect(await session.poll()).toBe('o\n');
    expect(await session.sendDDP({ msg: 'connect', version: '1', support: ['1'] })).toBe(204);
    await session.pollFor('connected');
    const numbers = await session.send('[42, {"msg":"method"}]');
    expect(numbers.status).toBe(204);
    await numbers.arrayBuffer();
    const errors = (await session.pollFor('error')).filter((message) => message['msg'] === 'error');
    while (errors.length < 2) errors.push(...(await session.pollFor('error')).filter((message) => message['msg'] === 'error'));
    // As in Meteor, a SockJS message that is not a string is read as its string form.
    expect(errors).toEqual([
      { msg: 'error', reason: 'Bad request: a DDP message is a JSON object', offendingMessage: 42 },
      { msg: 'error', reason: 'Parse error: not JSON' },
    ]);
    const broken = await session.send('["unterminated');
    expect(broken.status).toBe(500);
    expect(await broken.text()).toBe('Broken JSON encoding.');
    expect(await session.sendDDP({ msg: 'method', id: 'n', method: 'nextDay', params: [{ $date: 0 }] })).toBe(204);
    const result = (await session.pollFor('result')).find((message) => message['msg'] === 'result');
    expect(result).toEqual({ msg: 'result', id: 'n', result: { $date: DAY } });
    expect(await closeDuringPoll(server, session)).toBe('c[1001,"server shutting down"]\n');
  });

  it('answers an xhr_send body over maxFrameBytes with 413 and closes that session with 1009', async () => {
    const { server, disconnected } = ddpServer({ sockjs: { maxFrameBytes: 10_000, disconnectDelayMs: 1000 } });
    const { port } = await server.listen({ port: 0 });
    const session = new RawSession(`http://127.0.0.1:${port}/sockjs`);
    expect(await session.poll()).toBe('o\n');
    expect(await session.sendDDP({ msg: 'connect', version: '1', support: ['1'] })).toBe(204);
    await session.pollFor('connected');
    const small = await session.sendDDP({ msg: 'method', id: 'ok', method: 'add', params: ['b', 'b'.repeat(5_000)] });
    expect(small).toBe(204);
    await session.pollFor('result');
    const big = await session.send(JSON.stringify([JSON.stringify({ msg: 'method', id: 'big', method: 'add', params: ['c', 'c'.repeat(20_000)] })]));
    expect(big.status).toBe(413);
    await big.arrayBuffer();
    expect(await session.poll()).toBe('c[1009,"message too large"]\n');
    await disconnected;
  });

  it('disconnects a client that stops reading once maxBufferedBytes are waiting for it', async () => {
    const { server, table, disconnected, stopped } = ddpServer({ limits: { maxBufferedBytes: 20_000 } });
    for (let index = 0; index < 50; index += 1) table.insert(`row${index}`, { text: 'x'.repeat(1_000) });
    const { port } = await server.listen({ port: 0 });
    const session = new RawSession(`http://127.0.0.1:${port}/sockjs`);
    expect(await session.poll()).toBe('o\n');
    expect(await session.sendDDP({ msg: 'connect', version: '1', support: ['1'] })).toBe(204);
    await session.pollFor('connected');
    // No poll is open from now on: everything the server sends waits in the session.
    expect(await session.sendDDP({ msg: 'sub', id: 's', name: 'items', params: [] })).toBe(204);
    await stopped;
    await disconnected;
    // What was queued before the limit went over is still delivered; the rest was never sent.
    const data = await session.poll();
    expect(data).toMatch(/^a\[/);
    const delivered = (JSON.parse(data.slice(1)) as string[]).map((text) => JSON.parse(text) as Json);
    expect(delivered.length).toBeGreaterThan(10);
    expect(delivered.length).toBeLessThan(50);
    expect(delivered.every((message) => message['msg'] === 'added')).toBe(true);
    expect(await session.poll()).toBe('c[1006,"the client is not reading: write buffer limit exceeded"]\n');
  });

  it('serves the raw WebSocket endpoint /sockjs/websocket (where Meteor sends /websocket)', async () => {
    const { server, stopped } = ddpServer();
    const { port } = await server.listen({ port: 0 });
    const socket = new WebSocket(`ws://127.0.0.1:${port}/sockjs/websocket`);
    useTeardown(() => socket.terminate());
    const inbox: Json[] = [];
    let wake: (() => void) | undefined;
    socket.on('message', (data: Buffer) => {
      inbox.push(JSON.parse(data.toString()) as Json);
      wake?.();
    });
    const next = async (msg: string): Promise<Json> => {
      for (;;) {
        const found = inbox.find((message) => message['msg'] === msg);
        if (found) return found;
        await new Promise<void>((resolve) => (wake = resolve));
      }
    };
    const closed = once<[number, string]>((resolve) => socket.once('close', (code: number, reason: Buffer) => resolve([code, reason.toString()])));
    await once((resolve) => socket.once('open', resolve));
    socket.send(JSON.stringify({ msg: 'connect', version: '1', support: ['1'] }));
    await next('connected');
    socket.send(JSON.stringify({ msg: 'sub', id: 's', name: 'items', params: [] }));
    expect(await next('added')).toMatchObject({ id: 'a', fields: { name: 'A', at: { $date: 1000 } } });
    await next('ready');
    await server.close();
    // A plain WebSocket close from a server carries 1000 or 3000-4999: 1001 goes out as 1000.
    expect(await closed).toEqual([1000, 'server shutting down']);
    await stopped;
  });
});

describe('SockJSTransport, the adapter', () => {
  /** A bare SockJS endpoint on a shared server; resolves each accepted transport in turn. */
  async function endpoint(): Promise<{ base: string; next: () => Promise<SockJSTransport> }> {
    const { http, port } = await sharedHttpServer();
    const accepted: SockJSTransport[] = [];
    let wake: (() => void) | undefined;
    const sockjs = await installSockJS(http, sockjsSettings({ disconnectDelayMs: 1000 }, 1024 * 1024) as NonNullable<ReturnType<typeof sockjsSettings>>, (transport) => {
      accepted.push(transport);
      wake?.();
    });
    useTeardown(() => sockjs.close());
    const next = async (): Promise<SockJSTransport> => {
      while (accepted.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      return accepted.shift() as SockJSTransport;
    };
    return { base: `http://127.0.0.1:${port}/sockjs`, next };
  }

  it('receives by receive(), tryReceive() and push mode, reports write backpressure and drain, and closes with a frame', async () => {
    const { base, next } = await endpoint();
    const session = new RawSession(base);
    expect(await session.poll()).toBe('o\n');
    const transport = await next();
    expect([transport.state, transport.protocol, transport.sockjsProtocol, transport.remoteAddress]).toEqual(['open', '', 'xhr-polling', '127.0.0.1']);

    expect((await session.send(JSON.stringify(['one', 'two']))).status).toBe(204);
    expect(await transport.receive()).toBe('one');
    expect(transport.tryReceive()).toBe('two');
    expect(transport.tryReceive()).toBeUndefined();
    const pushed: unknown[] = [];
    transport.onMessage((message) => pushed.push(message));
    expect((await session.send(JSON.stringify(['three', 'four']))).status).toBe(204);
    expect(pushed).toEqual(['three', 'four']);
    transport.onMessage(undefined);

    // No poll is open: a message over the high water mark (1 MiB) waits in the session.
    const big = 'x'.repeat(1024 * 1024 + 1);
    expect(transport.write(big)).toBe(false);
    expect(transport.bufferedAmount).toBeGreaterThan(1024 * 1024);
    let drained = false;
    const drain = transport.drained().then(() => (drained = true));
    expect(transport.write('small')).toBe(false);
    expect(drained).toBe(false);
    const frame = await session.poll();
    expect(JSON.parse(frame.slice(1)) as string[]).toEqual([big, 'small']);
    await drain;
    expect(transport.bufferedAmount).toBeLessThan(1024 * 1024);
    expect(() => transport.write(new Uint8Array([1]))).toThrow(TypeError);

    const [closeFrame, info] = await Promise.all([session.poll(), transport.close(4000, 'bye')]);
    expect(closeFrame).toBe('c[4000,"bye"]\n');
    expect(info).toEqual({ code: 4000, reason: 'bye', wasClean: true });
    expect(transport.state).toBe('closed');
    expect(() => transport.write('late')).toThrow(ConnectionError);
    expect(await transport.receive()).toBeUndefined();
  });

  it('ends iteration with 1006 when the client goes away', async () => {
    const { base, next } = await endpoint();
    const socket = new WebSocket(`${base.replace('http', 'ws')}/000/gone/websocket`);
    useTeardown(() => socket.terminate());
    const opened = once<string>((resolve) => socket.once('message', (data: Buffer) => resolve(data.toString())));
    const transport = await next();
    expect(await opened).toBe('o');
    expect(transport.sockjsProtocol).toBe('websocket');
    socket.send(JSON.stringify(['hello', 'world']));
    const received: unknown[] = [];
    for await (const message of transport) {
      received.push(message);
      if (received.length === 2) socket.terminate();
    }
    expect(received).toEqual(['hello', 'world']);
    expect(await transport.closed).toEqual({ code: 1006, reason: 'SockJS session ended', wasClean: false });
  });
});

describe.skipIf(!hasDDP)('the npm ddp client with useSockJs', () => {
  it('asks /sockjs/info first, then subscribes, observes, and calls methods with dates', async () => {
    const { http, port, requests } = await sharedHttpServer();
    const { server, stopped } = ddpServer();
    await server.attach(http);
    logRequests(http, requests);
    const NodeDDP = require('ddp') as new (options: Record<string, unknown>) => OortDDPClient;
    const client = new NodeDDP({ host: '127.0.0.1', port, useSockJs: true, autoReconnect: false, maintainCollections: true, ddpVersion: '1' });
    useTeardown(() => client.close());
    await once<void>((resolve) =>
      client.connect((error) => {
        expect(error).toBeUndefined();
        resolve();
      }),
    );
    expect(requests[0]).toBe('GET /sockjs/info');
    await exerciseItemsWithOort(client);
    client.close();
    await stopped;
  });
});

/**
 * The options Meteor's browser client (socket-stream-client) opens SockJS with. sockjs-client
 * 1.x ignores the old `protocols_whitelist` name, so it offers its default list.
 */
const METEOR_SOCKJS_OPTIONS = { protocols_whitelist: ['websocket', 'xdr-polling', 'xhr-polling', 'iframe-xhr-polling', 'jsonp-polling'] };

/**
 * Page script: open SockJS to `url` (from another origin) with `options`, run a DDP session
 * (connect, subscribe, a method with a date), close it; what it saw.
 */
function browserSession(url: string, options: Record<string, unknown>): string {
  return `(async () => {
    const sock = new window.SockJS(${JSON.stringify(url)}, undefined, ${JSON.stringify(options)});
    const inbox = [];
    let wake = () => {};
    sock.onmessage = (event) => {
      const message = JSON.parse(event.data);
      if (message.msg === 'ping') sock.send(JSON.stringify({ msg: 'pong' }));
      else inbox.push(message);
      wake();
    };
    await new Promise((resolve, reject) => {
      sock.onopen = resolve;
      sock.onclose = (event) => reject(new Error('SockJS closed: ' + event.code + ' ' + event.reason));
    });
    const next = async (msg) => {
      for (;;) {
        const index = inbox.findIndex((message) => message.msg === msg);
        if (index >= 0) return inbox.splice(index, 1)[0];
        await new Promise((resolve) => (wake = resolve));
      }
    };
    sock.send(JSON.stringify({ msg: 'connect', version: '1', support: ['1', 'pre2', 'pre1'] }));
    await next('connected');
    sock.send(JSON.stringify({ msg: 'sub', id: 's1', name: 'items', params: [] }));
    const added = await next('added');
    await next('ready');
    sock.send(JSON.stringify({ msg: 'method', id: 'm1', method: 'nextDay', params: [{ $date: 0 }] }));
    const result = await next('result');
    const transport = sock.transport;
    const closed = new Promise((resolve) => (sock.onclose = (event) => resolve(event.code)));
    sock.close();
    return { transport, added, result, closed: await closed };
  })()`;
}

describe.skipIf(!(await chromiumAvailable()))('SockJS in headless Chromium (the sockjs-client build browsers load)', () => {
  it('runs DDP over websocket, xhr-streaming and xhr-polling across origins, and with Meteor’s options falls back when WebSocket is off', async () => {
    const script = await readFile(require.resolve('sockjs-client/dist/sockjs.min.js'), 'utf8');
    const page = await servePage({ '/sockjs.js': script });
    useTeardown(() => page.close());
    const browser = await launchChromium();
    useTeardown(() => browser.close());
    const tab = await browser.newPage();
    await tab.goto(page.url);
    await tab.evaluate(`import('/sockjs.js')`);

    const { server, closes } = ddpServer();
    const { port } = await server.listen({ port: 0 });
    const expected = { added: { msg: 'added', collection: 'items', id: 'a', fields: { name: 'A', at: { $date: 1000 } } }, result: { msg: 'result', id: 'm1', result: { $date: DAY } }, closed: 1000 };
    for (const transport of ['websocket', 'xhr-streaming', 'xhr-polling']) {
      expect(await tab.evaluate(browserSession(`http://127.0.0.1:${port}/sockjs`, { transports: [transport] }))).toEqual({ transport, ...expected });
    }
    // Each session was seen to end (the polling one after its disconnect delay).
    expect(closes).toHaveLength(3);
    await Promise.all(closes);
    expect(server.connectionCount).toBe(0);

    // Meteor's client as it opens SockJS: WebSocket first, HTTP streaming when the server offers no WebSocket.
    const { server: noWebSocket } = ddpServer({ sockjs: { websocket: false, disconnectDelayMs: 1000 } });
    const { port: fallbackPort } = await noWebSocket.listen({ port: 0 });
    expect(await tab.evaluate(browserSession(`http://127.0.0.1:${port}/sockjs`, METEOR_SOCKJS_OPTIONS))).toEqual({ transport: 'websocket', ...expected });
    expect(await tab.evaluate(browserSession(`http://127.0.0.1:${fallbackPort}/sockjs`, METEOR_SOCKJS_OPTIONS))).toEqual({ transport: 'xhr-streaming', ...expected });
  });
});
