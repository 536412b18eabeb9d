import type { MessageTooLargeError } from './errors.js';

/** Receives what a framer finds in a byte stream. */
export interface FrameSink {
  /** One complete message payload. */
  onFrame(frame: Uint8Array): void;
  /** A message exceeded the framer's `maxSize`; the framer has skipped (or is skipping) it. */
  onOversize(error: MessageTooLargeError): void;
}

/**
 * Splits a byte stream into messages and back. Framers are stateful per connection:
 * create one per stream.
 */
export interface Framer {
  /** Largest accepted message payload in bytes. */
  readonly maxSize: number;
  /** Frame one payload as a single buffer, ready to be written at once. */
  encode(payload: Uint8Array): Uint8Array;
  /**
   * Optional fast path for text: frame `text` as one string (written as UTF-8) or buffer.
   * Stream transports use it when present, saving an encode-and-copy per message.
   */
  encodeText?(text: string): string | Uint8Array;
  /** Feed received bytes; complete payloads go to `sink`. Throws `ProtocolError` on fatal garbage. */
  decode(chunk: Uint8Array, sink: FrameSink): void;
  /** Forget any partial message. */
  reset(): void;
}

/** Creates one framer per connection. */
export type FramerFactory = () => Framer;

/** Default `maxSize` of the framers: 16 MiB. */
export const DEFAULT_MAX_FRAME_SIZE = 16 * 1024 * 1024;

/** Joins byte chunks without copying until a message is complete. */
export class ByteAccumulator {
  #chunks: Uint8Array[] = [];
  #length = 0;

  /** Buffered byte count. */
  get length(): number {
    return this.#length;
  }

  /** Append a chunk (kept by reference). */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#length += chunk.length;
  }

  /** Remove and return every buffered byte as one array. */
  take(): Uint8Array {
    const chunks = this.#chunks;
    this.#chunks = [];
    const length = this.#length;
    this.#length = 0;
    if (chunks.length === 1) return chunks[0] as Uint8Array;
    const joined = new Uint8Array(length);
    let offset = 0;
    for (const chunk of chunks) {
      joined.set(chunk, offset);
      offset += chunk.length;
    }
    return joined;
  }

  /** Drop everything buffered. */
  clear(): void {
    this.#chunks = [];
    this.#length = 0;
  }
}
