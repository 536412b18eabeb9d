import { MessageTooLargeError } from './errors.js';
import { ByteAccumulator, DEFAULT_MAX_FRAME_SIZE, type FrameSink, type Framer } from './framer.js';

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/** Options for `NewlineFramer`. */
export interface NewlineFramerOptions {
  /** Largest accepted message in bytes, excluding the newline. Default 16 MiB. */
  maxSize?: number;
}

/**
 * Newline-delimited messages (JSON lines). Each message is checked against `maxSize`
 * on its own, even when one chunk carries many. An oversize message is reported and
 * skipped up to its newline, after which the stream carries on. A trailing `\r` is dropped.
 */
export class NewlineFramer implements Framer {
  readonly maxSize: number;
  readonly #partial = new ByteAccumulator();
  #skipping = 0;

  constructor(options: NewlineFramerOptions = {}) {
    this.maxSize = options.maxSize ?? DEFAULT_MAX_FRAME_SIZE;
  }

  encode(payload: Uint8Array): Uint8Array {
    const frame = new Uint8Array(payload.length + 1);
    frame.set(payload);
    frame[payload.length] = NEWLINE;
    return frame;
  }

  encodeText(text: string): string {
    return text + '\n';
  }

  decode(chunk: Uint8Array, sink: FrameSink): void {
    let start = 0;
    while (start < chunk.length) {
      const end = chunk.indexOf(NEWLINE, start);
      if (end === -1) {
        this.#keepPartial(chunk.subarray(start), sink);
        return;
      }
      this.#finishMessage(chunk.subarray(start, end), sink);
      start = end + 1;
    }
  }

  reset(): void {
    this.#partial.clear();
    this.#skipping = 0;
  }

  #keepPartial(rest: Uint8Array, sink: FrameSink): void {
    if (this.#skipping > 0) {
      this.#skipping += rest.length;
      return;
    }
    if (this.#partial.length + rest.length > this.maxSize) {
      this.#skipping = this.#partial.length + rest.length;
      this.#partial.clear();
      sink.onOversize(new MessageTooLargeError(this.#skipping, this.maxSize));
      return;
    }
    // Copy: the caller may reuse its chunk buffer.
    this.#partial.push(rest.slice());
  }

  #finishMessage(tail: Uint8Array, sink: FrameSink): void {
    if (this.#skipping > 0) {
      this.#skipping = 0;
      return;
    }
    const size = this.#partial.length + tail.length;
    if (size > this.maxSize) {
      this.#partial.clear();
      sink.onOversize(new MessageTooLargeError(size, this.maxSize));
      return;
    }
    let message: Uint8Array;
    if (this.#partial.length === 0) {
      message = tail;
    } else {
      this.#partial.push(tail);
      message = this.#partial.take();
    }
    if (message.length > 0 && message[message.length - 1] === CARRIAGE_RETURN) message = message.subarray(0, -1);
    sink.onFrame(message);
  }
}
