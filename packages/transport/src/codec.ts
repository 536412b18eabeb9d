import { Packr, type Options as PackrOptions } from 'msgpackr';
import { ProtocolError } from './errors.js';
import type { TransportMessage } from './transport.js';

/** Turns values into transport messages and back. */
export interface Codec {
  /** Short name, e.g. `json` or `msgpack` (used in subprotocol names). */
  readonly name: string;
  /** True when messages are binary (`Uint8Array`), false for text. */
  readonly binary: boolean;
  /** Encode one value as one message. */
  encode(value: unknown): TransportMessage;
  /** Decode one message; throws `ProtocolError` on malformed input. */
  decode(message: TransportMessage): unknown;
}

const textDecoder = new TextDecoder('utf-8', { fatal: true });

/** Decode a message as UTF-8 text, rejecting invalid byte sequences with `ProtocolError`. */
export function messageToText(message: TransportMessage): string {
  if (typeof message === 'string') return message;
  try {
    return textDecoder.decode(message);
  } catch (error) {
    throw new ProtocolError('message is not valid UTF-8', { cause: error });
  }
}

/** JSON text codec. */
export const jsonCodec: Codec = {
  name: 'json',
  binary: false,
  encode(value: unknown): string {
    return JSON.stringify(value);
  },
  decode(message: TransportMessage): unknown {
    const text = messageToText(message);
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new ProtocolError(`malformed JSON: ${(error as Error).message}`, { cause: error });
    }
  },
};

/** Create a MessagePack codec backed by `msgpackr` (plain maps, no record extension by default). */
export function createMsgpackCodec(options: PackrOptions = {}): Codec {
  const packr = new Packr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number', ...options });
  return {
    name: 'msgpack',
    binary: true,
    encode(value: unknown): Uint8Array {
      return packr.pack(value);
    },
    decode(message: TransportMessage): unknown {
      if (typeof message === 'string') throw new ProtocolError('expected a binary MessagePack message, got text');
      try {
        return packr.unpack(message) as unknown;
      } catch (error) {
        throw new ProtocolError(`malformed MessagePack: ${(error as Error).message}`, { cause: error });
      }
    },
  };
}

/** The default MessagePack codec. */
export const msgpackCodec: Codec = createMsgpackCodec();
