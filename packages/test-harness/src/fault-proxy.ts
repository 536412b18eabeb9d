import * as net from 'node:net';
import { FaultState, type FaultDirection } from './fault-state.js';
import { hardClose, ProxyConnection } from './proxy-connection.js';
import { withTimeout } from './timeout.js';

export type { FaultDirection } from './fault-state.js';

/** Where the proxy forwards connections to. */
export interface ProxyTarget {
  /** Host of the real server, e.g. `127.0.0.1`. */
  host: string;
  /** Port of the real server. */
  port: number;
}

/** Options of {@link FaultProxy.start}. */
export interface FaultProxyOptions {
  /** The real server every accepted connection is forwarded to. */
  target: ProxyTarget;
  /** Interface the proxy listens on. Default `127.0.0.1`. */
  host?: string;
  /** Port the proxy listens on. Default `0` (a free port chosen by the system). */
  port?: number;
}

interface Waiter {
  ready: () => boolean;
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * A TCP pass-through between clients and one real server that misbehaves on command.
 * Anything that runs over TCP goes through it unchanged (raw TCP, TLS, HTTP, WebSocket,
 * the PostgreSQL and Redis protocols) until a fault is switched on.
 *
 * Faults act on the chunks the proxy reads from its sockets. TCP does not keep message
 * boundaries, so "the next chunk" is whatever one read returned; with small, spaced-out
 * writes on loopback that is usually one write, but tests that need exact boundaries should
 * use {@link FaultProxy.corruptNext} or {@link FaultProxy.closeAfterBytes}, which count bytes.
 *
 * @example
 * ```ts
 * const proxy = await FaultProxy.start({ target: listener.address });
 * const client = await connectWebSocket(proxy.url('ws'));
 * await proxy.waitForConnections(1);
 * proxy.cutAll(); // the client sees its transport close with code 1006 at once
 * ```
 */
export class FaultProxy implements AsyncDisposable {
  /** Host the proxy listens on. */
  readonly host: string;
  /** Port the proxy listens on. */
  readonly port: number;
  private target: ProxyTarget;
  private refusing = false;
  private accepted = 0;
  private refused = 0;
  private readonly connections = new Set<ProxyConnection>();
  private readonly faults = new FaultState(() => this.notify());
  private waiters: Waiter[] = [];
  private closedPromise: Promise<void> | undefined;

  private constructor(
    private readonly server: net.Server,
    target: ProxyTarget,
  ) {
    this.target = { ...target };
    const address = server.address() as net.AddressInfo;
    this.host = address.address;
    this.port = address.port;
    server.on('connection', (socket: net.Socket) => this.onConnection(socket));
  }

  /**
   * Start a proxy listening on loopback (port 0 unless given) that forwards to `target`.
   *
   * @param options - the real server and where to listen
   * @returns the running proxy
   */
  static async start(options: FaultProxyOptions): Promise<FaultProxy> {
    const server = net.createServer({ allowHalfOpen: true, noDelay: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new FaultProxy(server, options.target);
  }

  /**
   * The proxy's address as a URL, e.g. `proxy.url('ws', '/rpc')` → `ws://127.0.0.1:40123/rpc`.
   *
   * @param scheme - URL scheme without `://` (`ws`, `http`, `redis`, `postgres`, ...)
   * @param path - optional path (with its leading `/`), query or credentials are not added
   */
  url(scheme: string, path = ''): string {
    const host = this.host.includes(':') ? `[${this.host}]` : this.host;
    return `${scheme}://${host}:${this.port}${path}`;
  }

  /** The proxy's address as `{ host, port }`, convenient for TCP clients. */
  get address(): { host: string; port: number } {
    return { host: this.host, port: this.port };
  }

  /** Bytes read from either side and not forwarded yet (held by a stall or a delay). */
  get pendingBytes(): number {
    return this.faults.pendingBytes;
  }

  /** Bytes forwarded in both directions over all connections since the start (after faults). */
  get forwardedBytes(): number {
    return this.faults.forwardedBytes;
  }

  /** Chunks dropped by {@link FaultProxy.dropNext} so far. */
  get droppedChunks(): number {
    return this.faults.droppedChunks;
  }

  /** Bytes flipped by {@link FaultProxy.corruptNext} so far. */
  get corruptedBytes(): number {
    return this.faults.corruptedBytes;
  }

  /** True while forwarding is stalled (see {@link FaultProxy.stall}). */
  get stalled(): boolean {
    return this.faults.stalled;
  }

  /** Number of connection pairs currently open. */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** Number of connections accepted and forwarded since the proxy started. */
  get acceptedCount(): number {
    return this.accepted;
  }

  /** Number of connections refused since the proxy started (see {@link FaultProxy.refuseNew}). */
  get refusedCount(): number {
    return this.refused;
  }

  /**
   * Point new connections at another server (existing ones keep their server).
   *
   * @param target - the new real server
   */
  setTarget(target: ProxyTarget): void {
    this.target = { ...target };
  }

  /**
   * Resolve once at least `count` connections have been accepted since the proxy started.
   *
   * @param count - total accepted connections to wait for
   * @param timeoutMs - reject after this long (default 10 000 ms)
   */
  waitForConnections(count: number, timeoutMs = 10_000): Promise<void> {
    return this.waitFor(() => this.accepted >= count, timeoutMs, `${count} connection(s) to the proxy (${this.accepted} so far)`);
  }

  /**
   * Resolve once no connection pair is open any more.
   *
   * @param timeoutMs - reject after this long (default 10 000 ms)
   */
  waitForIdle(timeoutMs = 10_000): Promise<void> {
    return this.waitFor(() => this.connections.size === 0, timeoutMs, 'every proxied connection to close');
  }

  /**
   * Destroy every client and server socket pair at once with a TCP reset: both sides see
   * the connection fail immediately (`ECONNRESET`, WebSocket close 1006). The proxy keeps
   * listening; new connections are forwarded as usual.
   */
  cutAll(): void {
    for (const connection of [...this.connections]) connection.cutNow();
  }

  /** Stop forwarding in both directions; bytes read meanwhile are kept, in order. */
  stall(): void {
    this.faults.stalled = true;
  }

  /** Forward everything kept since {@link FaultProxy.stall}, in order, and go on forwarding. */
  resume(): void {
    this.faults.stalled = false;
    for (const connection of [...this.connections]) {
      connection.upstream.flush();
      connection.downstream.flush();
    }
  }

  /**
   * Hold every chunk read from now on for `ms` milliseconds before forwarding it (order is kept).
   *
   * @param ms - the delay, `0` to switch it off
   */
  setDelay(ms: number): void {
    this.faults.delayMs = Math.max(0, ms);
  }

  /**
   * Silently drop the next `count` chunks read in `direction`.
   *
   * @param count - how many chunks
   * @param direction - which way (default `both`)
   */
  dropNext(count: number, direction: FaultDirection = 'both'): void {
    this.faults.addDrop(count, direction);
  }

  /**
   * Flip every bit of the next `byteCount` bytes forwarded in `direction` (each byte is XORed
   * with 0xFF, so every one of them is guaranteed to change).
   *
   * @param byteCount - how many bytes
   * @param direction - which way (default `both`)
   */
  corruptNext(byteCount: number, direction: FaultDirection = 'both'): void {
    this.faults.addCorruption(byteCount, direction);
  }

  /**
   * Cut each connection once `byteCount` bytes (both directions together, counted from the
   * connection's start) have been forwarded: the last allowed bytes are delivered, then both
   * sockets are closed. Applies to open and future connections until called with `undefined`.
   *
   * @param byteCount - the per-connection budget, or `undefined` to switch it off
   */
  closeAfterBytes(byteCount: number | undefined): void {
    this.faults.closeAfter = byteCount;
    if (byteCount === undefined) return;
    for (const connection of [...this.connections]) {
      if (connection.forwardedBytes >= byteCount) connection.cutNow();
    }
  }

  /**
   * While `on`, accept new connections and reset them at once without contacting the real
   * server (the client sees `ECONNRESET` or an immediate close). Open connections are untouched.
   *
   * @param on - refuse (true) or forward again (false); default true
   */
  refuseNew(on = true): void {
    this.refusing = on;
  }

  /** Switch every fault off: resume, no delay, no pending drops/corruptions, no byte budget, accept again. */
  clearFaults(): void {
    this.faults.clear();
    this.refusing = false;
    this.resume();
  }

  /** Stop listening and reset every open connection. Safe to call twice. */
  close(): Promise<void> {
    this.closedPromise ??= new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.cutAll();
    });
    return this.closedPromise;
  }

  /** Same as {@link FaultProxy.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * Resolve once `condition` holds. It is checked now and after every proxy event (a
   * connection accepted, refused or closed, bytes read), so tests wait on state, never on time.
   *
   * @example
   * ```ts
   * proxy.stall();
   * client.write('hello');
   * await proxy.waitUntil((p) => p.pendingBytes === 5);
   * ```
   *
   * @param condition - tested against this proxy
   * @param timeoutMs - reject after this long (default 10 000 ms)
   */
  waitUntil(condition: (proxy: FaultProxy) => boolean, timeoutMs = 10_000): Promise<void> {
    return this.waitFor(() => condition(this), timeoutMs, 'a proxy condition');
  }

  private onConnection(client: net.Socket): void {
    client.on('error', () => undefined);
    if (this.refusing || this.closedPromise) {
      this.refused += 1;
      hardClose(client);
      this.notify();
      return;
    }
    client.setNoDelay(true);
    const server = net.connect({ host: this.target.host, port: this.target.port, allowHalfOpen: true, noDelay: true });
    this.connections.add(new ProxyConnection(this.faults, client, server, (gone) => this.forget(gone)));
    this.accepted += 1;
    this.notify();
  }

  private notify(): void {
    for (const waiter of this.waiters) {
      try {
        if (waiter.ready()) waiter.resolve();
      } catch (error) {
        waiter.reject(error instanceof Error ? error : new Error(String(error)));
      }
    }
  }

  private forget(connection: ProxyConnection): void {
    this.connections.delete(connection);
    this.notify();
  }

  private waitFor(ready: () => boolean, timeoutMs: number, what: string): Promise<void> {
    try {
      if (ready()) return Promise.resolve();
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    let waiter: Waiter | undefined;
    const promise = new Promise<void>((resolve, reject) => {
      waiter = { ready, resolve, reject };
      this.waiters.push(waiter);
    });
    return withTimeout(promise, timeoutMs, what).finally(() => {
      this.waiters = this.waiters.filter((w) => w !== waiter);
    });
  }
}
