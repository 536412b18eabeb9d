import type { WebSocket as WsSocket, RawData } from 'ws';
import type { IncomingMessage } from 'node:http';
import { BaseTransport, type BaseTransportOptions } from './base-transport.js';
import { TickCork, type CorkableStream } from './tick-cork.js';
import { ConnectionError, ProtocolError } from './errors.js';
import {
  CLOSE_ABNORMAL,
  CLOSE_INVALID_PAYLOAD,
  CLOSE_MESSAGE_TOO_BIG,
  CLOSE_PROTOCOL_ERROR,
  type TransportMessage,
} from './transport.js';

const CLOSE_HANDSHAKE_TIMEOUT_MS = 5_000;
const TEXT = { binary: false } as const;
const BINARY = { binary: true } as const;
/** Messages at least this big are watched for drain even when nothing is buffered yet. */
const WATCHED_MESSAGE_BYTES = 16 * 1024;

/**
 * A transport over a `ws` socket (Node). Reading pauses the socket when the incoming
 * queue is full; writes report drain through `ws`'s send callbacks.
 */
export class NodeWebSocketTransport extends BaseTransport {
  readonly #socket: WsSocket;
  #cork: TickCork | undefined;
  #closeTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #onWritten = (error?: Error): void => {
    if (!error) this.didDrain();
  };

  /**
   * Wrap a `ws` socket (connecting or open); listeners attach at once so no message is missed.
   * `stream` is the network stream under it, when known: writes of one tick are then corked
   * into one system call.
   */
  constructor(socket: WsSocket, options: BaseTransportOptions & { remoteAddress?: string; stream?: CorkableStream } = {}) {
    super(options);
    this.#socket = socket;
    this.#cork = options.stream ? new TickCork(options.stream) : undefined;
    if (!options.stream) {
      // Client sockets: the network stream shows up with the handshake response.
      socket.once('upgrade', (response: IncomingMessage) => {
        this.#cork = new TickCork(response.socket);
      });
    }
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
      const violation = lastError && protocolViolation(lastError);
      if (violation) {
        this.didClose({ code: violation.code, reason: violation.error.message, wasClean: false, error: violation.error });
        return;
      }
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
    const isText = typeof message === 'string';
    // A write callback costs a closure call per message, so only writes that can leave the
    // buffer above its high water mark get one: the last watched write drains the buffer.
    const size = isText ? message.length * 3 : message.byteLength; // UTF-8 upper bound
    const watch = this.#socket.bufferedAmount > 0 || size >= Math.min(WATCHED_MESSAGE_BYTES, this.writeHighWaterMark);
    this.#cork?.hold();
    this.#socket.send(message, isText ? TEXT : BINARY, watch ? this.#onWritten : undefined);
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

/**
 * `ws` reports frames that break RFC 6455 as errors with a `WS_ERR_*` code, then closes
 * the socket. Keep that cause visible as a `ProtocolError` and the close code `ws` sent.
 */
function protocolViolation(error: Error): { code: number; error: ProtocolError } | undefined {
  const wsCode = (error as { code?: unknown }).code;
  if (typeof wsCode !== 'string' || !wsCode.startsWith('WS_ERR_')) return undefined;
  if (wsCode === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
    return { code: CLOSE_MESSAGE_TOO_BIG, error: new ProtocolError(`message too large: ${error.message}`, { cause: error }) };
  }
  const code = wsCode === 'WS_ERR_INVALID_UTF8' ? CLOSE_INVALID_PAYLOAD : CLOSE_PROTOCOL_ERROR;
  return { code, error: new ProtocolError(`WebSocket protocol error: ${error.message}`, { cause: error }) };
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return data;
}
