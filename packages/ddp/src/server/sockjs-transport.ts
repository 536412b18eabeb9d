import {
  BaseTransport,
  CLOSE_ABNORMAL,
  CLOSE_NORMAL,
  type BaseTransportOptions,
  type TransportMessage,
} from '@rt/transport';

/** How long a raw WebSocket peer gets to answer our close frame before its socket is dropped. */
const CLOSE_HANDSHAKE_TIMEOUT_MS = 5_000;
/** SockJS transports that ride one WebSocket (their network stream is the whole session). */
const WEBSOCKET_PROTOCOLS = new Set(['websocket', 'websocket-raw']);

/**
 * The parts of a `sockjs` (0.3.x) connection the adapter uses: its documented API
 * (`write`, `close`, `readyState`, `protocol`, `remoteAddress`, `headers`, `pathname`,
 * the `data` and `close` events).
 */
export interface SockJSConnection {
  readonly readyState: number;
  readonly protocol?: string;
  readonly remoteAddress?: string;
  readonly headers?: Readonly<Record<string, string | string[] | undefined>>;
  readonly pathname?: string;
  write(data: string): boolean;
  close(code?: number, reason?: string): boolean;
  on(event: 'data', listener: (data: unknown) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
}

/** The network stream under a SockJS receiver, as far as the adapter needs it. */
interface NetworkStream {
  readonly writableLength: number;
  pause(): unknown;
  resume(): unknown;
  destroy(): unknown;
  once(event: 'drain', listener: () => void): unknown;
}

/**
 * What `sockjs` 0.3.24 keeps on `connection._session` (Meteor reads the same field). The
 * public API reports no buffered bytes, no drain and cannot pause reading; these fields give
 * them. Every read is guarded: when a field is missing the adapter falls back to the public API.
 */
interface SessionInternals {
  readonly recv?: {
    readonly connection?: NetworkStream | null;
    readonly response?: { readonly socket?: NetworkStream | null } | null;
  } | null;
  readonly send_buffer?: readonly string[];
  readonly to_tref?: { unref?(): unknown } | null;
}

/** Options for `SockJSTransport`. */
export interface SockJSTransportOptions extends BaseTransportOptions {
  /** Called when the transport has closed (the endpoint stops tracking it). */
  onClosed?: () => void;
}

/**
 * A `Transport` over one SockJS connection (any SockJS transport: WebSocket, raw WebSocket,
 * xhr-streaming, xhr-polling, ...). Messages are strings both ways.
 *
 * SockJS clients send no close code: a session the client ended (or that timed out) closes
 * with 1006. `close(code, reason)` hands SockJS a close frame with that code; on an HTTP
 * transport with no request open at that moment the frame waits for the client's next poll
 * (call `receiverArrived()` when one was served), at most five seconds.
 */
export class SockJSTransport extends BaseTransport {
  /** The SockJS transport the client opened the session with (`websocket`, `xhr-streaming`, ...). */
  readonly sockjsProtocol: string;
  readonly #connection: SockJSConnection;
  readonly #onClosed: (() => void) | undefined;
  #closing: { code: number; reason: string } | undefined;
  #deliveryTimer: ReturnType<typeof setTimeout> | undefined;
  #awaitingPoll = false;
  #watchedStream: NetworkStream | undefined;
  #pausedStream: NetworkStream | undefined;

  /** Wrap a SockJS connection; listeners attach at once so no message is missed. */
  constructor(connection: SockJSConnection, options: SockJSTransportOptions = {}) {
    super(options);
    this.#connection = connection;
    this.#onClosed = options.onClosed;
    this.sockjsProtocol = connection.protocol ?? '';
    this.remoteAddress = connection.remoteAddress;
    // SockJS frames carry JSON values; clients send strings. Anything else is coerced the way
    // Meteor does (`'' + data`), so it reaches the DDP parser and gets a DDP `error` reply.
    connection.on('data', (data) => this.didReceive(typeof data === 'string' ? data : String(data)));
    connection.on('close', () => this.#ended());
    void this.closed.then(() => {
      clearTimeout(this.#deliveryTimer);
      this.#onClosed?.();
    });
  }

  /** True for SockJS transports that ride one WebSocket (`websocket`, `websocket-raw`). */
  get isWebSocket(): boolean {
    return WEBSOCKET_PROTOCOLS.has(this.sockjsProtocol);
  }

  /**
   * Bytes not yet handed to the operating system: frames SockJS holds for the client's next
   * request plus what the current request's socket has buffered.
   */
  get bufferedAmount(): number {
    const session = this.#session();
    let pending = 0;
    for (const frame of session?.send_buffer ?? []) pending += frame.length;
    return pending + (this.#stream()?.writableLength ?? 0);
  }

  /**
   * The endpoint calls this after SockJS served a request of this session: a poll may have
   * taken the buffered frames (drain) or the close frame (the close is complete).
   */
  receiverArrived(): void {
    if (this.#closing && this.#awaitingPoll) {
      this.#releaseSession();
      this.didClose({ code: this.#closing.code, reason: this.#closing.reason, wasClean: true });
      return;
    }
    this.#checkDrain();
  }

  protected writeMessage(message: TransportMessage): void {
    if (typeof message !== 'string') throw new TypeError('SockJS carries text messages only');
    if (!this.#connection.write(message)) {
      // SockJS already ended the session (its own heartbeat failed): the session is gone.
      this.#ended();
      return;
    }
    if (this.bufferedAmount >= this.writeHighWaterMark) this.#watchDrain();
  }

  protected startClose(code: number, reason: string): void {
    this.#closing = { code, reason };
    if (this.sockjsProtocol === 'websocket-raw') {
      if (!this.#tryClose(code, reason)) return;
      this.#deliveryTimer = setTimeout(() => this.#drop(), CLOSE_HANDSHAKE_TIMEOUT_MS);
      this.#deliveryTimer.unref?.();
      return;
    }
    const session = this.#session();
    const receiving = session === undefined || Boolean(session.recv);
    if (!this.#tryClose(code, reason)) return;
    if (receiving) {
      // The close frame went out on the open request (or WebSocket): SockJS has no reply to wait for.
      this.#releaseSession();
      this.didClose({ code, reason, wasClean: true });
      return;
    }
    // HTTP polling between two requests: the frame goes out with the client's next poll.
    this.#awaitingPoll = true;
    this.#deliveryTimer = setTimeout(() => {
      this.#releaseSession();
      this.didClose({ code, reason, wasClean: false });
    }, CLOSE_HANDSHAKE_TIMEOUT_MS);
    this.#deliveryTimer.unref?.();
  }

  protected destroy(error: Error | undefined): void {
    const reason = error?.message ?? 'aborted';
    const stream = this.isWebSocket ? this.#stream() : undefined;
    if (stream) {
      // No close frame, as an aborted WebSocket: the client sees 1006.
      stream.destroy();
    } else {
      // An HTTP client would just poll again: only a close frame ends its session.
      this.#tryClose(CLOSE_ABNORMAL, reason);
      this.#releaseSession();
    }
    this.didClose({ code: CLOSE_ABNORMAL, reason, wasClean: false, error });
  }

  protected pauseReading(): void {
    // Only a WebSocket can be paused; HTTP transports deliver what each request carries.
    if (!this.isWebSocket) return;
    this.#pausedStream = this.#stream();
    this.#pausedStream?.pause();
  }

  protected resumeReading(): void {
    this.#pausedStream?.resume();
    this.#pausedStream = undefined;
  }

  /** The SockJS session ended on its side: the client left, timed out, or we closed it. */
  #ended(): void {
    clearTimeout(this.#deliveryTimer);
    const closing = this.#closing;
    if (closing) this.didClose({ code: closing.code, reason: closing.reason, wasClean: this.sockjsProtocol === 'websocket-raw' });
    else this.didClose({ code: CLOSE_ABNORMAL, reason: 'SockJS session ended', wasClean: false });
  }

  /** `connection.close()`; `false` when it threw (the transport is then closed). */
  #tryClose(code: number, reason: string): boolean {
    // The raw endpoint is a plain WebSocket: faye-websocket sends only 1000 and 3000-4999.
    const raw = this.sockjsProtocol === 'websocket-raw';
    const sent = !raw || code === CLOSE_NORMAL || (code >= 3000 && code <= 4999) ? code : CLOSE_NORMAL;
    try {
      this.#connection.close(sent, reason);
      return true;
    } catch (error) {
      this.#stream()?.destroy();
      this.didClose({ code: CLOSE_ABNORMAL, reason, wasClean: false, error: error instanceof Error ? error : new Error(String(error)) });
      return false;
    }
  }

  #watchDrain(): void {
    const stream = this.#stream();
    if (!stream || stream === this.#watchedStream || stream.writableLength === 0) return;
    this.#watchedStream = stream;
    stream.once('drain', () => {
      if (this.#watchedStream === stream) this.#watchedStream = undefined;
      this.#checkDrain();
    });
  }

  #checkDrain(): void {
    if (this.state === 'closed') return;
    if (this.bufferedAmount < this.writeHighWaterMark) this.didDrain();
    else this.#watchDrain();
  }

  /**
   * SockJS keeps a closed HTTP session for its disconnect delay (up to a minute in Meteor's
   * setting) to answer a late poll; that timer must not keep the process alive.
   */
  #releaseSession(): void {
    this.#session()?.to_tref?.unref?.();
  }

  #drop(): void {
    this.#stream()?.destroy();
    const closing = this.#closing;
    this.didClose({ code: closing?.code ?? CLOSE_ABNORMAL, reason: closing?.reason ?? '', wasClean: false });
  }

  #session(): SessionInternals | undefined {
    const session = (this.#connection as { _session?: unknown })._session;
    return typeof session === 'object' && session !== null ? (session as SessionInternals) : undefined;
  }

  #stream(): NetworkStream | undefined {
    const receiver = this.#session()?.recv;
    return receiver?.connection ?? receiver?.response?.socket ?? undefined;
  }
}
