import * as net from 'node:net';
import { listenWebSocket, NewlineFramer, StreamTransport, type Codec, type FramerFactory, type Transport } from '@rt/transport';
import { ScriptRunner, type ScriptedConnection, type ScriptStep } from './script-runner.js';
import { withTimeout } from './timeout.js';

/** Options of {@link startScriptedServer}. */
export interface ScriptedServerOptions {
  /** The steps every connection runs, or a function choosing them per connection (by index). */
  script: readonly ScriptStep[] | ((connection: number) => readonly ScriptStep[]);
  /** `websocket` (default) or `tcp` (messages framed by `framer`). */
  transport?: 'websocket' | 'tcp';
  /** Decode incoming and encode outgoing messages (e.g. `jsonCodec`); without it messages are strings or bytes. */
  codec?: Codec;
  /** Interface to listen on. Default `127.0.0.1`. */
  host?: string;
  /** Port to listen on. Default 0 (a free one). */
  port?: number;
  /** WebSocket: accept upgrades on this path only. */
  path?: string;
  /** WebSocket: subprotocols the server speaks. */
  protocols?: string[];
  /** TCP: creates the framer of each connection (default newline framing). */
  framer?: FramerFactory;
  /** TCP: deliver messages as strings (default true) or bytes. */
  text?: boolean;
  /** How long an `expect` step waits unless it says otherwise. Default 5000 ms. */
  expectTimeoutMs?: number;
  /** How many connections must finish their script for `done` to resolve. Default 1. */
  connections?: number;
}

/** A transcript-driven mock server (see {@link startScriptedServer}). */
export interface ScriptedServer extends AsyncDisposable {
  /** Where it listens. */
  readonly address: { host: string; port: number };
  /** `ws://host:port/path` or `tcp://host:port`. */
  readonly url: string;
  /** Every connection so far, with its transcript. */
  readonly connections: readonly ScriptedConnection[];
  /**
   * Resolves when `options.connections` connections have finished their scripts; rejects
   * with a diff and the transcript as soon as a step fails on any connection.
   */
  readonly done: Promise<void>;
  /** Resolve once `count` connections have been accepted. */
  waitForConnections(count: number, timeoutMs?: number): Promise<void>;
  /** Stop listening and close every connection. Failures after this are not reported. */
  close(): Promise<void>;
}

interface Accepted {
  transport: Transport;
  socket: net.Socket | undefined;
}

class Server implements ScriptedServer {
  readonly connections: ScriptRunner[] = [];
  readonly done: Promise<void>;
  readonly startedAt = performance.now();
  private resolveDone!: () => void;
  private rejectDone!: (error: Error) => void;
  private finishedCount = 0;
  private stopping = false;
  private waiters: { count: number; resolve: () => void }[] = [];
  private closing: Promise<void> | undefined;

  constructor(
    readonly address: { host: string; port: number },
    readonly url: string,
    private readonly options: ScriptedServerOptions,
    private readonly stop: () => Promise<void>,
  ) {
    this.done = new Promise<void>((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    this.done.catch(() => undefined);
  }

  accept({ transport, socket }: Accepted): void {
    if (this.stopping) {
      transport.abort();
      return;
    }
    const index = this.connections.length;
    const { script } = this.options;
    const runner = new ScriptRunner(transport, {
      index,
      steps: typeof script === 'function' ? script(index) : script,
      codec: this.options.codec,
      expectTimeoutMs: this.options.expectTimeoutMs ?? 5000,
      startedAt: this.startedAt,
      socket,
      stopping: () => this.stopping,
    });
    this.connections.push(runner);
    runner.finished.then(
      () => {
        this.finishedCount += 1;
        if (this.finishedCount >= (this.options.connections ?? 1)) this.resolveDone();
      },
      (error: unknown) => this.rejectDone(error instanceof Error ? error : new Error(String(error))),
    );
    this.waiters = this.waiters.filter((waiter) => {
      if (this.connections.length < waiter.count) return true;
      waiter.resolve();
      return false;
    });
  }

  waitForConnections(count: number, timeoutMs = 10_000): Promise<void> {
    if (this.connections.length >= count) return Promise.resolve();
    const arrived = new Promise<void>((resolve) => this.waiters.push({ count, resolve }));
    return withTimeout(arrived, timeoutMs, `${count} connection(s) to the scripted server (${this.connections.length} so far)`);
  }

  close(): Promise<void> {
    this.stopping = true;
    this.closing ??= this.stop();
    return this.closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

async function listenTcpScripted(options: ScriptedServerOptions): Promise<Server> {
  const host = options.host ?? '127.0.0.1';
  const sockets = new Set<net.Socket>();
  const tcp = net.createServer({ noDelay: true });
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(options.port ?? 0, host, () => {
      tcp.off('error', reject);
      resolve();
    });
  });
  const { port } = tcp.address() as net.AddressInfo;
  const server = new Server({ host, port }, `tcp://${host}:${port}`, options, async () => {
    const closed = new Promise<void>((resolve) => tcp.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  });
  tcp.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    const transport = new StreamTransport(socket, {
      framer: options.framer?.() ?? new NewlineFramer(),
      text: options.text ?? true,
    });
    server.accept({ transport, socket });
  });
  return server;
}

async function listenWebSocketScripted(options: ScriptedServerOptions): Promise<Server> {
  const listener = await listenWebSocket({
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    ...(options.path !== undefined && { path: options.path }),
    ...(options.protocols !== undefined && { protocols: options.protocols }),
  });
  const server = new Server(listener.address, listener.url, options, () => listener.close());
  listener.onConnection((transport, info) => {
    const socket = info.request?.socket;
    server.accept({ transport, socket: socket instanceof net.Socket ? socket : undefined });
  });
  return server;
}

/**
 * Start a transcript-driven mock server on loopback for client edge cases: each connection
 * runs the script step by step (expect this, answer that, then misbehave), and everything
 * is recorded per connection. Built on `@rt/transport` (its WebSocket listener, or its
 * stream transport and framers over TCP).
 *
 * @example
 * ```ts
 * const server = await withTeardown(
 *   startScriptedServer({
 *     codec: jsonCodec,
 *     script: [
 *       { expect: { method: 'ping' } },
 *       { send: ({ last }) => ({ id: (last as { id: number }).id, result: 'pong' }) },
 *       { cut: true },
 *     ],
 *   }),
 *   (s) => s.close(),
 * );
 * const client = await connectWebSocket(server.url);
 * // ... drive the client ...
 * await server.done; // rejects with a diff if the client sent something else
 * ```
 *
 * @param options - the script, the transport and the codec
 */
export function startScriptedServer(options: ScriptedServerOptions): Promise<ScriptedServer> {
  return options.transport === 'tcp' ? listenTcpScripted(options) : listenWebSocketScripted(options);
}
