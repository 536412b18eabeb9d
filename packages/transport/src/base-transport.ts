import { waitFor } from './abort.js';
import { AsyncQueue } from './async-queue.js';
import { ConnectionError } from './errors.js';
import {
  CLOSE_ABNORMAL,
  CLOSE_NORMAL,
  type CloseInfo,
  type Transport,
  type TransportMessage,
  type TransportState,
  type WaitOptions,
} from './transport.js';

/** Options shared by every transport implementation. */
export interface BaseTransportOptions {
  /** Incoming messages buffered before reading pauses. Default 1024. */
  readHighWaterMark?: number;
  /** Outgoing bytes buffered before `write()` returns `false`. Default 1 MiB. */
  writeHighWaterMark?: number;
}

/**
 * The shared half of every transport: the incoming queue with read backpressure, the
 * write-buffer accounting, and the close bookkeeping. Subclasses move bytes.
 */
export abstract class BaseTransport implements Transport {
  /** Negotiated subprotocol, or the empty string. */
  get protocol(): string {
    return '';
  }

  /** The peer's address, when known. */
  remoteAddress: string | undefined = undefined;
  /** Resolves once when the transport has closed. */
  readonly closed: Promise<CloseInfo>;

  #state: TransportState = 'open';
  #closeInfo: CloseInfo | undefined;
  #resolveClosed!: (info: CloseInfo) => void;
  readonly #incoming: AsyncQueue<TransportMessage>;
  readonly #writeHighWaterMark: number;
  #drainWaiters: (() => void)[] = [];
  #messageHandler: ((message: TransportMessage) => void) | undefined;

  constructor(options: BaseTransportOptions = {}) {
    this.#writeHighWaterMark = options.writeHighWaterMark ?? 1024 * 1024;
    this.#incoming = new AsyncQueue<TransportMessage>({
      highWaterMark: options.readHighWaterMark ?? 1024,
      onDrain: () => this.resumeReading(),
    });
    this.closed = new Promise<CloseInfo>((resolve) => {
      this.#resolveClosed = resolve;
    });
  }

  get state(): TransportState {
    return this.#state;
  }

  abstract get bufferedAmount(): number;

  /** Outgoing bytes buffered before `write()` returns `false`. */
  protected get writeHighWaterMark(): number {
    return this.#writeHighWaterMark;
  }

  /** Hand one message to the underlying connection. */
  protected abstract writeMessage(message: TransportMessage): void;
  /** Start the closing handshake; the subclass calls `didClose` when it completes. */
  protected abstract startClose(code: number, reason: string): void;
  /** Destroy the connection at once; the subclass calls `didClose`. */
  protected abstract destroy(error: Error | undefined): void;
  /** Stop reading from the connection (incoming buffer full). */
  protected abstract pauseReading(): void;
  /** Resume reading from the connection. */
  protected abstract resumeReading(): void;

  write(message: TransportMessage): boolean {
    if (this.#state !== 'open') {
      throw new ConnectionError('cannot write: the transport is ' + this.#state, this.#closeDetails());
    }
    this.writeMessage(message);
    return this.bufferedAmount < this.#writeHighWaterMark;
  }

  async send(message: TransportMessage, options: WaitOptions = {}): Promise<void> {
    if (!this.write(message)) await this.drained(options);
  }

  drained(options: WaitOptions = {}): Promise<void> {
    if (this.bufferedAmount < this.#writeHighWaterMark || this.#state === 'closed') return Promise.resolve();
    let resume!: () => void;
    const promise = new Promise<void>((resolve) => {
      resume = resolve;
      this.#drainWaiters.push(resume);
    });
    return waitFor(promise, { ...options, what: 'drain' }, () => {
      this.#drainWaiters = this.#drainWaiters.filter((waiter) => waiter !== resume);
    });
  }

  tryReceive(): TransportMessage | undefined {
    return this.#incoming.tryShift();
  }

  receive(options?: WaitOptions): Promise<TransportMessage | undefined> {
    return this.#incoming.shift(options && { ...options, what: 'receive' });
  }

  [Symbol.asyncIterator](): AsyncIterator<TransportMessage> {
    return this.#incoming[Symbol.asyncIterator]();
  }

  close(code = CLOSE_NORMAL, reason = ''): Promise<CloseInfo> {
    if (this.#state === 'open') {
      this.#state = 'closing';
      this.startClose(code, reason);
    }
    return this.closed;
  }

  abort(error?: Error): void {
    if (this.#state === 'closed') return;
    this.#state = 'closing';
    this.destroy(error);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Subclasses call this for every complete incoming message. */
  protected didReceive(message: TransportMessage): void {
    if (this.#incoming.ended) return;
    const handler = this.#messageHandler;
    if (handler) this.#deliverTo(handler, message);
    else if (!this.#incoming.push(message)) this.pauseReading();
  }

  onMessage(handler: ((message: TransportMessage) => void) | undefined): void {
    this.#messageHandler = handler;
    if (!handler) return;
    // Messages that were already queued go first, in order.
    for (let queued = this.#incoming.tryShift(); queued !== undefined; queued = this.#incoming.tryShift()) {
      if (this.#messageHandler !== handler) return;
      this.#deliverTo(handler, queued);
    }
  }

  #deliverTo(handler: (message: TransportMessage) => void, message: TransportMessage): void {
    try {
      handler(message);
    } catch (error) {
      // A handler that throws has lost track of the protocol: end the connection, visibly.
      this.abort(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** Subclasses call this when the write buffer has drained. */
  protected didDrain(): void {
    if (this.bufferedAmount >= this.#writeHighWaterMark) return;
    for (const resume of this.#drainWaiters.splice(0)) resume();
  }

  /** Subclasses call this exactly when the connection is gone. Later calls are ignored. */
  protected didClose(info: { code?: number; reason?: string; wasClean?: boolean; error?: Error | undefined }): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    const code = info.code ?? CLOSE_ABNORMAL;
    const closeInfo: CloseInfo = {
      code,
      reason: info.reason ?? '',
      wasClean: info.wasClean ?? code !== CLOSE_ABNORMAL,
      ...(info.error ? { error: info.error } : {}),
    };
    this.#closeInfo = closeInfo;
    this.#incoming.end();
    for (const resume of this.#drainWaiters.splice(0)) resume();
    this.#resolveClosed(closeInfo);
  }

  #closeDetails(): { closeCode?: number; closeReason?: string; cause?: Error } {
    const info = this.#closeInfo;
    if (!info) return {};
    return { closeCode: info.code, closeReason: info.reason, ...(info.error ? { cause: info.error } : {}) };
  }
}
