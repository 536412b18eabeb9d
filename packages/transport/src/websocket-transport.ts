import { BaseTransport, type BaseTransportOptions } from './base-transport.js';
import { ConnectionError } from './errors.js';
import { CLOSE_ABNORMAL, type TransportMessage } from './transport.js';

/** The standard (WHATWG) WebSocket surface this transport relies on. */
export interface StandardWebSocket {
  readonly readyState: number;
  readonly protocol: string;
  readonly bufferedAmount: number;
  binaryType: string;
  send(data: string | ArrayBufferLike | ArrayBufferView): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: string, listener: (event: never) => void): void;
  removeEventListener(type: string, listener: (event: never) => void): void;
}

/** A WebSocket class with the standard constructor. */
export type StandardWebSocketConstructor = new (url: string, protocols?: string | string[]) => StandardWebSocket;

const OPEN = 1;
const DRAIN_POLL_MS = 5;

/**
 * A transport over a standard WebSocket (browsers, Node's global `WebSocket`, or any
 * class with the same API). Browsers cannot pause reading, so backpressure on reads is
 * the incoming queue only; write drain is observed by polling `bufferedAmount`.
 */
export class StandardWebSocketTransport extends BaseTransport {
  readonly #socket: StandardWebSocket;
  #drainTimer: ReturnType<typeof setTimeout> | undefined;

  /** Wrap a socket (connecting or open); listeners attach at once so no message is missed. */
  constructor(socket: StandardWebSocket, options: BaseTransportOptions = {}) {
    super(options);
    this.#socket = socket;
    socket.binaryType = 'arraybuffer';
    socket.addEventListener('message', (event: { data: unknown }) => {
      const data = event.data;
      if (typeof data === 'string') this.didReceive(data);
      else if (data instanceof ArrayBuffer) this.didReceive(new Uint8Array(data));
      else if (ArrayBuffer.isView(data)) this.didReceive(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    });
    socket.addEventListener('close', (event: { code: number; reason: string; wasClean: boolean }) => {
      clearTimeout(this.#drainTimer);
      this.didClose({
        code: event.code,
        reason: event.reason,
        wasClean: event.wasClean,
        error: event.wasClean ? undefined : new ConnectionError('WebSocket connection lost', { closeCode: event.code }),
      });
    });
  }

  override get protocol(): string {
    return this.#socket.protocol;
  }

  get bufferedAmount(): number {
    return this.#socket.bufferedAmount;
  }

  protected writeMessage(message: TransportMessage): void {
    this.#socket.send(message);
    if (this.#socket.bufferedAmount > 0 && this.#drainTimer === undefined) this.#pollDrain();
  }

  protected startClose(code: number, reason: string): void {
    this.#socket.close(code, reason);
  }

  protected destroy(error: Error | undefined): void {
    // The standard API has no abrupt close: close at once and report the loss ourselves.
    if (this.#socket.readyState === OPEN) this.#socket.close(1000, 'aborted');
    this.didClose({ code: CLOSE_ABNORMAL, reason: error?.message ?? 'aborted', wasClean: false, error });
  }

  protected pauseReading(): void {}

  protected resumeReading(): void {}

  #pollDrain(): void {
    this.#drainTimer = setTimeout(() => {
      this.#drainTimer = undefined;
      this.didDrain();
      if (this.#socket.bufferedAmount > 0 && this.state !== 'closed') this.#pollDrain();
    }, DRAIN_POLL_MS);
  }
}
