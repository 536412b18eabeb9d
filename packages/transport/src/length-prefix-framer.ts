import { MessageTooLargeError } from './errors.js';
import { ByteAccumulator, DEFAULT_MAX_FRAME_SIZE, type FrameSink, type Framer } from './framer.js';

const HEADER_BYTES = 4;

/** Options for `LengthPrefixFramer`. */
export interface LengthPrefixFramerOptions {
  /** Largest accepted payload in bytes. Default 16 MiB. */
  maxSize?: number;
}

/**
 * Messages prefixed with their payload length as a 4-byte big-endian unsigned integer.
 * An oversize message is reported at its header and its body skipped, so the stream recovers.
 */
export class LengthPrefixFramer implements Framer {
  readonly maxSize: number;
  readonly #buffer = new ByteAccumulator();
  /** Payload length of the message being read, or -1 while reading a header. */
  #expected = -1;
  #skipRemaining = 0;

  constructor(options: LengthPrefixFramerOptions = {}) {
    this.maxSize = options.maxSize ?? DEFAULT_MAX_FRAME_SIZE;
  }

  encode(payload: Uint8Array): Uint8Array {
    const frame = new Uint8Array(HEADER_BYTES + payload.length);
    new DataView(frame.buffer).setUint32(0, payload.length, false);
    frame.set(payload, HEADER_BYTES);
    return frame;
  }

  decode(chunk: Uint8Array, sink: FrameSink): void {
    let data = chunk;
    while (data.length > 0) {
      if (this.#skipRemaining > 0) {
        const skipped = Math.min(this.#skipRemaining, data.length);
        this.#skipRemaining -= skipped;
        data = data.subarray(skipped);
        continue;
      }
      const wanted = this.#expected < 0 ? HEADER_BYTES : this.#expected;
      const missing = wanted - this.#buffer.length;
      if (data.length < missing) {
        this.#buffer.push(data.slice());
        return;
      }
      this.#buffer.push(data.subarray(0, missing));
      data = data.subarray(missing);
      const complete = this.#buffer.take();
      if (this.#expected < 0) this.#readHeader(complete, sink);
      else {
        this.#expected = -1;
        sink.onFrame(complete);
      }
    }
    if (this.#expected === 0) {
      this.#expected = -1;
      sink.onFrame(new Uint8Array(0));
    }
  }

  reset(): void {
    this.#buffer.clear();
    this.#expected = -1;
    this.#skipRemaining = 0;
  }

  #readHeader(header: Uint8Array, sink: FrameSink): void {
    const length = new DataView(header.buffer, header.byteOffset, HEADER_BYTES).getUint32(0, false);
    if (length > this.maxSize) {
      this.#skipRemaining = length;
      sink.onOversize(new MessageTooLargeError(length, this.maxSize));
      return;
    }
    this.#expected = length;
  }
}
