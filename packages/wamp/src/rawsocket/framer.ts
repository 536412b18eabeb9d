import { MessageTooLargeError, ProtocolError, type FrameSink, type Framer } from '@rt/transport';

/** The first byte of every RawSocket handshake. */
export const RAWSOCKET_MAGIC = 0x7f;
/** Frame types in the first header byte. */
export const FrameType = { REGULAR: 0, PING: 1, PONG: 2 } as const;
/** Handshake error codes (upper nibble of the router's second byte when its lower nibble is 0). */
export const HandshakeError = { SERIALIZER_UNSUPPORTED: 1, MAX_LENGTH_UNACCEPTABLE: 2, RESERVED_BITS_USED: 3, MAX_CONNECTIONS: 4 } as const;

const HEADER = 4;
/** Largest RawSocket message: 2^24 bytes (16 MiB), length exponent 15. */
export const RAWSOCKET_MAX_LENGTH = 2 ** 24;

/** The length exponent (0..15) announcing `maxLength` (rounded down to a power of two, at least 512). */
export function lengthExponent(maxLength: number): number {
  const exponent = Math.floor(Math.log2(Math.max(512, Math.min(maxLength, RAWSOCKET_MAX_LENGTH)))) - 9;
  return Math.min(15, Math.max(0, exponent));
}

/** A handshake: `0x7F, length exponent << 4 | serializer id, 0, 0`. */
export function encodeHandshake(serializerId: number, maxLength: number): Uint8Array {
  return new Uint8Array([RAWSOCKET_MAGIC, (lengthExponent(maxLength) << 4) | serializerId, 0, 0]);
}

/** A refusal: `0x7F, error << 4, 0, 0`. */
export function encodeHandshakeError(code: number): Uint8Array {
  return new Uint8Array([RAWSOCKET_MAGIC, code << 4, 0, 0]);
}

/** The parsed content of a 4-byte handshake. */
export type Handshake =
  | { ok: true; serializerId: number; maxLength: number }
  | { ok: false; error: number };

/** Parse a 4-byte handshake; throws `ProtocolError` when it is not one. */
export function decodeHandshake(bytes: Uint8Array): Handshake {
  if (bytes.length !== 4 || bytes[0] !== RAWSOCKET_MAGIC) throw new ProtocolError('not a WAMP RawSocket handshake');
  const second = bytes[1] as number;
  if (bytes[2] !== 0 || bytes[3] !== 0) return { ok: false, error: HandshakeError.RESERVED_BITS_USED };
  const serializerId = second & 0x0f;
  if (serializerId === 0) return { ok: false, error: second >> 4 };
  return { ok: true, serializerId, maxLength: 2 ** (9 + (second >> 4)) };
}

/**
 * RawSocket framing after the handshake: a 4-byte header (frame type, 24-bit big-endian
 * length) before each payload. Pings are answered through `onPing`; pongs go to `onPong`.
 */
export class RawSocketFramer implements Framer {
  readonly maxSize: number;
  /** Largest message the peer accepts (its handshake's length); bigger writes throw. */
  readonly peerMaxSize: number;
  #buffer = new Uint8Array(0);
  readonly #onPing: ((payload: Uint8Array) => void) | undefined;
  readonly #onPong: ((payload: Uint8Array) => void) | undefined;

  constructor(options: {
    maxSize?: number;
    peerMaxSize?: number;
    onPing?: (payload: Uint8Array) => void;
    onPong?: (payload: Uint8Array) => void;
  } = {}) {
    this.maxSize = Math.min(options.maxSize ?? RAWSOCKET_MAX_LENGTH, RAWSOCKET_MAX_LENGTH);
    this.peerMaxSize = Math.min(options.peerMaxSize ?? RAWSOCKET_MAX_LENGTH, RAWSOCKET_MAX_LENGTH);
    this.#onPing = options.onPing;
    this.#onPong = options.onPong;
  }

  /** Frame one regular message; throws `MessageTooLargeError` above the peer's limit. */
  encode(payload: Uint8Array): Uint8Array {
    if (payload.length > this.peerMaxSize) throw new MessageTooLargeError(payload.length, this.peerMaxSize);
    return RawSocketFramer.frame(FrameType.REGULAR, payload);
  }

  /** One frame of `type` around `payload`. */
  static frame(type: number, payload: Uint8Array): Uint8Array {
    if (payload.length >= RAWSOCKET_MAX_LENGTH) throw new MessageTooLargeError(payload.length, RAWSOCKET_MAX_LENGTH - 1);
    const frame = new Uint8Array(HEADER + payload.length);
    frame[0] = type;
    frame[1] = payload.length >>> 16;
    frame[2] = (payload.length >>> 8) & 0xff;
    frame[3] = payload.length & 0xff;
    frame.set(payload, HEADER);
    return frame;
  }

  /** Feed received bytes: regular payloads go to `sink`, pings and pongs to their handlers. */
  decode(chunk: Uint8Array, sink: FrameSink): void {
    let data: Uint8Array;
    if (this.#buffer.length === 0) data = chunk;
    else {
      data = new Uint8Array(this.#buffer.length + chunk.length);
      data.set(this.#buffer);
      data.set(chunk, this.#buffer.length);
    }
    let offset = 0;
    while (data.length - offset >= HEADER) {
      const type = data[offset] as number;
      if (type > FrameType.PONG) throw new ProtocolError(`invalid RawSocket frame type ${type}`);
      const length = ((data[offset + 1] as number) << 16) | ((data[offset + 2] as number) << 8) | (data[offset + 3] as number);
      if (length > this.maxSize) throw new MessageTooLargeError(length, this.maxSize);
      if (data.length - offset - HEADER < length) break;
      const payload = data.subarray(offset + HEADER, offset + HEADER + length);
      offset += HEADER + length;
      if (type === FrameType.REGULAR) sink.onFrame(payload);
      else if (type === FrameType.PING) this.#onPing?.(payload.slice());
      else this.#onPong?.(payload.slice());
    }
    this.#buffer = offset === data.length ? new Uint8Array(0) : data.slice(offset);
  }

  /** Forget a partial frame. */
  reset(): void {
    this.#buffer = new Uint8Array(0);
  }
}
