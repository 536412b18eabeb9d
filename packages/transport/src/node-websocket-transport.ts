import type { WebSocket as WsSocket, RawData } from 'ws';
import { BaseTransport, type BaseTransportOptions } from './base-transport.js';
import { ConnectionError } from './errors.js';
import { CLOSE_ABNORMAL, type TransportMessage } from './transport.js';

const CLOSE_HANDSHAKE_TIMEOUT_MS = 5_000;

/**
 * A transport over a `ws` socket (Node). Reading pauses the socket when the incoming
 * queue is full; writes report drain through `ws`'s send callbacks.
 */
export class NodeWebSocketTransport extends BaseTransport {
  readonly #socket: WsSocket;
  #closeTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #onWritten = (error?: Error): void => {
    if (!error) this.didDrain();
  };

  /** Wrap a `ws` socket (connecting or open); listeners attach at once so no message is missed. */
  constructor(socket: WsSocket, options: BaseTransportOptions & { remoteAddress?: string } = {}) {
    super(options);
    this.#socket = socket;
    this.remoteAddress = options.remoteAddress;
    socket.on('message', (data: RawData, isBinary: boolean) => {
      this.didReceive(isBinary ? toBytes(data) : data.toString());
    });
    let lastError: Error | undefined;
    socket.on('error', (error: Error) => {
      lastError = error;
    });
    socket.on('close', (code: number, reason: Buffer) => {
      clearTimeout(this.#closeTimer);
      const abnormal = code === CLOSE_ABNORMAL;
      this.didClose({
        code,
        reason: reason.toString(),
        wasClean: !abnormal,
        error: abnormal ? new ConnectionError('WebSocket connection lost', { closeCode: code, cause: lastError }) : lastError,
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
    this.#socket.send(message, { binary: typeof message !== 'string' }, this.#onWritten);
  }

  protected startClose(code: number, reason: string): void {
    this.#socket.close(code, reason);
    // A peer that never answers the close frame must not keep us open forever.
    this.#closeTimer = setTimeout(() => this.#socket.terminate(), CLOSE_HANDSHAKE_TIMEOUT_MS);
    this.#closeTimer.unref?.();
  }

  protected destroy(): void {
    this.#socket.terminate();
  }

  protected pauseReading(): void {
    this.#socket.pause();
  }

  protected resumeReading(): void {
    this.#socket.resume();
  }
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return data;
}
