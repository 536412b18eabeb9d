import { Buffer, isUtf8 } from 'node:buffer';
import type { Socket } from 'node:net';
import { BaseTransport, type BaseTransportOptions } from './base-transport.js';
import { ConnectionError, type MessageTooLargeError, ProtocolError } from './errors.js';
import type { FrameSink, Framer } from './framer.js';
import { NewlineFramer } from './newline-framer.js';
import { TickCork } from './tick-cork.js';
import { CLOSE_ABNORMAL, CLOSE_MESSAGE_TOO_BIG, CLOSE_PROTOCOL_ERROR, type TransportMessage } from './transport.js';

/** What a stream transport does with a message over its framer's `maxSize`. */
export type OversizePolicy = 'close' | 'skip' | ((error: MessageTooLargeError) => void);

/** Options for transports over byte streams (TCP, TLS). */
export interface StreamTransportOptions extends BaseTransportOptions {
  /** Splits the byte stream into messages. Default: a `NewlineFramer`. */
  framer?: Framer;
  /** Deliver messages as UTF-8 strings (default `true`) or as bytes. */
  text?: boolean;
  /**
   * On an oversize message: `close` the connection with 1009 (default), `skip` it, or call
   * a function (the framer has skipped the message; the function may close the transport).
   */
  onOversize?: OversizePolicy;
}

const encoder = new TextEncoder();

/**
 * A message transport over a Node stream socket (TCP or TLS) and a framer. Each message
 * is framed into one buffer and written with one `write` call.
 */
export class StreamTransport extends BaseTransport {
  readonly #socket: Socket;
  readonly #framer: Framer;
  readonly #text: boolean;
  readonly #onOversize: OversizePolicy;
  #closeRequest: { code: number; reason: string } | undefined;
  readonly #cork: TickCork;
  #error: Error | undefined;
  readonly #sink: FrameSink = {
    onFrame: (frame) => this.#deliver(frame),
    onOversize: (error) => this.#oversize(error),
  };

  /** Wrap a connected socket. */
  constructor(socket: Socket, options: StreamTransportOptions = {}) {
    super(options);
    this.#socket = socket;
    this.#cork = new TickCork(socket);
    this.#framer = options.framer ?? new NewlineFramer();
    this.#text = options.text ?? true;
    this.#onOversize = options.onOversize ?? 'close';
    this.remoteAddress = socket.remoteAddress;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      try {
        this.#framer.decode(chunk, this.#sink);
      } catch (error) {
        this.#fail(error instanceof Error ? error : new ProtocolError(String(error)), CLOSE_PROTOCOL_ERROR);
      }
    });
    socket.on('drain', () => this.didDrain());
    socket.on('error', (error: Error) => {
      this.#error ??= error;
    });
    socket.on('close', () => this.#didCloseSocket());
  }

  get bufferedAmount(): number {
    return this.#socket.writableLength;
  }

  protected writeMessage(message: TransportMessage): void {
    this.#cork.hold();
    if (typeof message !== 'string') this.#socket.write(this.#framer.encode(message));
    else if (this.#framer.encodeText) this.#socket.write(this.#framer.encodeText(message));
    else this.#socket.write(this.#framer.encode(encoder.encode(message)));
  }

  protected startClose(code: number, reason: string): void {
    this.#closeRequest = { code, reason };
    this.#socket.end();
  }

  protected destroy(error: Error | undefined): void {
    this.#error ??= error;
    this.#socket.destroy();
  }

  protected pauseReading(): void {
    this.#socket.pause();
  }

  protected resumeReading(): void {
    this.#socket.resume();
  }

  #deliver(frame: Uint8Array): void {
    if (!this.#text) {
      this.didReceive(frame);
      return;
    }
    const bytes = Buffer.isBuffer(frame) ? frame : Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
    const text = bytes.toString('utf8');
    // Invalid UTF-8 decodes to U+FFFD; only then is the (rarer) full validation pass needed.
    if (text.includes('\uFFFD') && !isUtf8(bytes)) {
      this.#fail(new ProtocolError('message is not valid UTF-8'), CLOSE_PROTOCOL_ERROR);
      return;
    }
    this.didReceive(text);
  }

  #oversize(error: MessageTooLargeError): void {
    const policy = this.#onOversize;
    if (policy === 'skip') return;
    if (policy === 'close') this.#fail(error, CLOSE_MESSAGE_TOO_BIG);
    else policy(error);
  }

  #fail(error: Error, code: number): void {
    if (this.state === 'closed') return;
    this.#error ??= error;
    this.#closeRequest = { code, reason: error.message };
    this.#socket.destroy();
  }

  #didCloseSocket(): void {
    const request = this.#closeRequest;
    if (request) {
      this.didClose({ code: request.code, reason: request.reason, wasClean: !this.#error, error: this.#error });
      return;
    }
    // The peer ended the stream. Without an error that is a clean close.
    const error = this.#error
      ? new ConnectionError(`connection lost: ${this.#error.message}`, { cause: this.#error })
      : undefined;
    this.didClose({
      code: error ? CLOSE_ABNORMAL : 1000,
      reason: error ? 'connection lost' : 'peer closed the connection',
      wasClean: !error,
      error,
    });
  }
}
