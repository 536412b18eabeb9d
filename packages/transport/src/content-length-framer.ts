import { MessageTooLargeError, ProtocolError } from './errors.js';
import { ByteAccumulator, DEFAULT_MAX_FRAME_SIZE, type FrameSink, type Framer } from './framer.js';

const HEADER_END = new Uint8Array([0x0d, 0x0a, 0x0d, 0x0a]);
const MAX_HEADER_BYTES = 8 * 1024;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Options for `ContentLengthFramer`. */
export interface ContentLengthFramerOptions {
  /** Largest accepted body in bytes. Default 16 MiB. */
  maxSize?: number;
  /** `Content-Type` header written with each message; omitted when undefined (the LSP default). */
  contentType?: string;
}

/**
 * `Content-Length:` header framing as the Language Server Protocol uses it. Headers are
 * ASCII lines ended by CRLF, then an empty line, then the body. A missing or invalid
 * `Content-Length` is fatal (`ProtocolError`); an oversize body is reported and skipped.
 */
export class ContentLengthFramer implements Framer {
  readonly maxSize: number;
  readonly #contentType: string | undefined;
  #buffer = new Uint8Array(0);
  readonly #body = new ByteAccumulator();
  /** Body length being read, or -1 while reading headers. */
  #expected = -1;
  #skipRemaining = 0;

  constructor(options: ContentLengthFramerOptions = {}) {
    this.maxSize = options.maxSize ?? DEFAULT_MAX_FRAME_SIZE;
    this.#contentType = options.contentType;
  }

  encode(payload: Uint8Array): Uint8Array {
    let header = `Content-Length: ${payload.length}\r\n`;
    if (this.#contentType !== undefined) header += `Content-Type: ${this.#contentType}\r\n`;
    const head = encoder.encode(header + '\r\n');
    const frame = new Uint8Array(head.length + payload.length);
    frame.set(head);
    frame.set(payload, head.length);
    return frame;
  }

  decode(chunk: Uint8Array, sink: FrameSink): void {
    let data = chunk;
    while (data.length > 0) {
      if (this.#skipRemaining > 0) {
        const skipped = Math.min(this.#skipRemaining, data.length);
        this.#skipRemaining -= skipped;
        data = data.subarray(skipped);
      } else if (this.#expected < 0) {
        data = this.#readHeaders(data, sink);
      } else {
        const missing = this.#expected - this.#body.length;
        const take = Math.min(missing, data.length);
        this.#body.push(data.subarray(0, take).slice());
        data = data.subarray(take);
        if (take === missing) {
          this.#expected = -1;
          sink.onFrame(this.#body.take());
        }
      }
    }
  }

  reset(): void {
    this.#buffer = new Uint8Array(0);
    this.#body.clear();
    this.#expected = -1;
    this.#skipRemaining = 0;
  }

  /** Consume header bytes; returns the bytes left after the headers (or nothing yet). */
  #readHeaders(data: Uint8Array, sink: FrameSink): Uint8Array {
    const joined = new Uint8Array(this.#buffer.length + data.length);
    joined.set(this.#buffer);
    joined.set(data, this.#buffer.length);
    const end = indexOfSequence(joined, HEADER_END);
    if (end === -1) {
      if (joined.length > MAX_HEADER_BYTES) throw new ProtocolError('Content-Length header block too long');
      this.#buffer = joined;
      return new Uint8Array(0);
    }
    this.#buffer = new Uint8Array(0);
    const length = parseContentLength(decoder.decode(joined.subarray(0, end)));
    const rest = joined.subarray(end + HEADER_END.length);
    if (length > this.maxSize) {
      this.#skipRemaining = length;
      sink.onOversize(new MessageTooLargeError(length, this.maxSize));
    } else if (length === 0) {
      sink.onFrame(new Uint8Array(0));
    } else {
      this.#expected = length;
    }
    return rest;
  }
}

function parseContentLength(headerBlock: string): number {
  for (const line of headerBlock.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon === -1) throw new ProtocolError(`malformed header line: ${JSON.stringify(line.slice(0, 80))}`);
    if (line.slice(0, colon).trim().toLowerCase() !== 'content-length') continue;
    const value = line.slice(colon + 1).trim();
    if (!/^\d{1,15}$/.test(value)) throw new ProtocolError(`invalid Content-Length: ${JSON.stringify(value)}`);
    return Number(value);
  }
  throw new ProtocolError('missing Content-Length header');
}

function indexOfSequence(haystack: Uint8Array, needle: Uint8Array): number {
  const first = needle[0] as number;
  let from = 0;
  for (;;) {
    const at = haystack.indexOf(first, from);
    if (at === -1 || at + needle.length > haystack.length) return -1;
    let match = true;
    for (let i = 1; i < needle.length; i++) {
      if (haystack[at + i] !== needle[i]) {
        match = false;
        break;
      }
    }
    if (match) return at;
    from = at + 1;
  }
}
