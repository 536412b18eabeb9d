import { createMsgpackCodec, jsonCodec, messageToText, ProtocolError, type Codec, type TransportMessage } from '@rt/transport';
import { Decoder } from 'cbor-x/decode';
import { base64ToBytes, bytesToBase64, containsBinary, mapLeaves } from './binary.js';
import { WampProtocolError } from './errors.js';
import { CborEncoder } from './cbor-encoder.js';
import { MsgpackEncoder } from './msgpack-encoder.js';
import { decodeMessage, encodeMessage } from './message-codec.js';
import type { WampMessage } from './messages.js';

/** Name of a WAMP serializer this package ships. */
export type SerializerName = 'json' | 'msgpack' | 'cbor';

/** Turns WAMP messages into transport messages and back, validating what it reads. */
export interface Serializer {
  /** `json`, `msgpack` or `cbor`. */
  readonly name: SerializerName;
  /** WebSocket subprotocol, e.g. `wamp.2.json`. */
  readonly subprotocol: string;
  /** RawSocket serializer id (1 JSON, 2 MessagePack, 3 CBOR). */
  readonly rawSocketId: number;
  /** True when frames are binary. */
  readonly binary: boolean;
  /** Serialize a raw message list (no validation). */
  encodeRaw(list: unknown[]): TransportMessage;
  /** Deserialize one frame into a raw value (no WAMP validation); throws `WampProtocolError`. */
  decodeRaw(data: TransportMessage): unknown;
  /** Serialize one message. */
  serialize(message: WampMessage): TransportMessage;
  /** Deserialize and validate one message; throws `WampProtocolError`. */
  deserialize(data: TransportMessage): WampMessage;
}

function wrapDecode(codec: Codec, data: TransportMessage): unknown {
  try {
    return codec.decode(data);
  } catch (error) {
    throw new WampProtocolError(error instanceof ProtocolError ? error.message : 'undecodable message');
  }
}

const binaryToString = (value: unknown): unknown =>
  value instanceof Uint8Array ? `\0${bytesToBase64(value)}` : value;
const stringToBinary = (value: unknown): unknown =>
  typeof value === 'string' && value.charCodeAt(0) === 0 ? base64ToBytes(value.slice(1)) : value;

/**
 * JSON serializer (`wamp.2.json`). Binary values travel as strings made of a NUL character and
 * their base64, as the spec prescribes.
 */
export const jsonSerializer: Serializer = {
  name: 'json',
  subprotocol: 'wamp.2.json',
  rawSocketId: 1,
  binary: false,
  encodeRaw(list) {
    return jsonCodec.encode(containsBinary(list) ? mapLeaves(list, binaryToString) : list);
  },
  decodeRaw(data) {
    let text: string;
    try {
      text = messageToText(data);
    } catch {
      throw new WampProtocolError('a JSON frame must be valid UTF-8');
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new WampProtocolError(`malformed JSON: ${(error as Error).message}`);
    }
    if (!text.includes('\\u0000')) return value;
    try {
      return mapLeaves(value, stringToBinary);
    } catch {
      throw new WampProtocolError('invalid base64 in a binary string');
    }
  },
  serialize(message) {
    return this.encodeRaw(encodeMessage(message));
  },
  deserialize(data) {
    return decodeMessage(this.decodeRaw(data));
  },
};

const msgpack = createMsgpackCodec();
const msgpackEncoder = new MsgpackEncoder();

/** MessagePack serializer (`wamp.2.msgpack`), on `@rt/transport`'s codec. */
export const msgpackSerializer: Serializer = {
  name: 'msgpack',
  subprotocol: 'wamp.2.msgpack',
  rawSocketId: 2,
  binary: true,
  encodeRaw(list) {
    return msgpackEncoder.encode(list);
  },
  decodeRaw(data) {
    if (typeof data === 'string') throw new WampProtocolError('expected a binary MessagePack frame, got text');
    return wrapDecode(msgpack, data);
  },
  serialize(message) {
    return this.encodeRaw(encodeMessage(message));
  },
  deserialize(data) {
    return decodeMessage(this.decodeRaw(data));
  },
};

/** `int64AsNumber` is a runtime option of cbor-x its typings do not list: IDs up to 2^53 come back as numbers. */
const cborOptions = { mapsAsObjects: true, useRecords: false, int64AsNumber: true };
const cborDecoder = new Decoder(cborOptions);
const cborEncoder = new CborEncoder();

/** CBOR serializer (`wamp.2.cbor`): `cbor-x` decodes, a minimal-head writer encodes. */
export const cborSerializer: Serializer = {
  name: 'cbor',
  subprotocol: 'wamp.2.cbor',
  rawSocketId: 3,
  binary: true,
  encodeRaw(list) {
    return cborEncoder.encode(list);
  },
  decodeRaw(data) {
    if (typeof data === 'string') throw new WampProtocolError('expected a binary CBOR frame, got text');
    try {
      return cborDecoder.decode(data) as unknown;
    } catch (error) {
      throw new WampProtocolError(`malformed CBOR: ${(error as Error).message}`);
    }
  },
  serialize(message) {
    return this.encodeRaw(encodeMessage(message));
  },
  deserialize(data) {
    return decodeMessage(this.decodeRaw(data));
  },
};

/** Every serializer, by name. */
export const serializers: Readonly<Record<SerializerName, Serializer>> = {
  json: jsonSerializer, msgpack: msgpackSerializer, cbor: cborSerializer,
};

/** The serializer for a WebSocket subprotocol, if supported. */
export function serializerForSubprotocol(protocol: string): Serializer | undefined {
  return Object.values(serializers).find((serializer) => serializer.subprotocol === protocol);
}
