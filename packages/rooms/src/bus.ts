/**
 * A room bus links the copies of one room held by several server nodes: document and
 * awareness updates made on one node reach the others, and a node that loads a room
 * catches up with the rest through a state-vector exchange.
 */
import { ProtocolError } from '@rt/transport';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';

/** What nodes tell each other about one room. */
export type BusMessage =
  /** A document update made on the sending node. */
  | { readonly kind: 'update'; readonly update: Uint8Array }
  /** An awareness update from the sending node's clients. */
  | { readonly kind: 'awareness'; readonly update: Uint8Array }
  /**
   * The sender's state vector: others answer with an `update` holding what it lacks, and
   * when `join` is set also with their own state vector and awareness states.
   */
  | { readonly kind: 'state-vector'; readonly stateVector: Uint8Array; readonly join: boolean };

/** One node's membership in one room's channel. */
export interface BusSubscription {
  /** Send a message to every other subscriber of the room. */
  publish(message: BusMessage): void;
  /** Leave the room's channel. */
  unsubscribe(): Promise<void>;
}

/** Carries `BusMessage`s between nodes. Implementations: `MemoryBus`, `RedisBus`. */
export interface RoomBus {
  /**
   * Join room `roomId`; `onMessage` gets every message published by the other subscribers.
   * `onResync` is called after the bus lost its connection and got it back, when messages
   * may have been missed: the room then exchanges state vectors again.
   */
  subscribe(roomId: string, onMessage: (message: BusMessage) => void, onResync?: () => void): Promise<BusSubscription>;
  /** Leave every room and release connections. */
  close?(): Promise<void>;
}

const KIND_UPDATE = 0;
const KIND_AWARENESS = 1;
const KIND_STATE_VECTOR = 2;

/** Encode a bus message with the id of the subscription that sends it. */
export function encodeBusMessage(sender: string, message: BusMessage): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarString(encoder, sender);
  switch (message.kind) {
    case 'update':
      encoding.writeVarUint(encoder, KIND_UPDATE);
      encoding.writeVarUint8Array(encoder, message.update);
      break;
    case 'awareness':
      encoding.writeVarUint(encoder, KIND_AWARENESS);
      encoding.writeVarUint8Array(encoder, message.update);
      break;
    case 'state-vector':
      encoding.writeVarUint(encoder, KIND_STATE_VECTOR);
      encoding.writeVarUint8Array(encoder, message.stateVector);
      encoding.writeUint8(encoder, message.join ? 1 : 0);
      break;
  }
  return encoding.toUint8Array(encoder);
}

/** Decode a bus message; throws `ProtocolError` on malformed input. */
export function decodeBusMessage(bytes: Uint8Array): { sender: string; message: BusMessage } {
  try {
    const decoder = decoding.createDecoder(bytes);
    const sender = decoding.readVarString(decoder);
    const kind = decoding.readVarUint(decoder);
    let message: BusMessage;
    switch (kind) {
      case KIND_UPDATE:
        message = { kind: 'update', update: readBytes(decoder) };
        break;
      case KIND_AWARENESS:
        message = { kind: 'awareness', update: readBytes(decoder) };
        break;
      case KIND_STATE_VECTOR: {
        const stateVector = readBytes(decoder);
        message = { kind: 'state-vector', stateVector, join: decoding.readUint8(decoder) === 1 };
        break;
      }
      default:
        throw new ProtocolError(`unknown bus message kind ${kind}`);
    }
    if (decoder.pos !== bytes.length) throw new ProtocolError('trailing bytes after a bus message');
    return { sender, message };
  } catch (error) {
    if (error instanceof ProtocolError) throw error;
    throw new ProtocolError('malformed bus message', { cause: error });
  }
}

function readBytes(decoder: decoding.Decoder): Uint8Array {
  const length = decoding.readVarUint(decoder);
  if (length > decoder.arr.length - decoder.pos) throw new ProtocolError('bus message field runs past the end');
  return decoding.readUint8Array(decoder, length);
}

/** A random id for one subscription, so a node can recognise its own messages. */
export function createSubscriberId(): string {
  const bytes = new Uint8Array(9);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/**
 * A bus inside one process: every server bound with the same `MemoryBus` shares rooms.
 * Messages are delivered asynchronously and copied, as over a network.
 */
export class MemoryBus implements RoomBus {
  readonly #rooms = new Map<string, Map<string, (message: BusMessage) => void>>();

  async subscribe(roomId: string, onMessage: (message: BusMessage) => void): Promise<BusSubscription> {
    const id = createSubscriberId();
    let members = this.#rooms.get(roomId);
    if (!members) {
      members = new Map();
      this.#rooms.set(roomId, members);
    }
    members.set(id, onMessage);
    return {
      publish: (message) => {
        const bytes = encodeBusMessage(id, message);
        for (const [memberId, deliver] of this.#rooms.get(roomId) ?? []) {
          if (memberId === id) continue;
          queueMicrotask(() => {
            // A member that left meanwhile must not hear the message.
            if (this.#rooms.get(roomId)?.get(memberId) === deliver) deliver(decodeBusMessage(bytes.slice()).message);
          });
        }
      },
      unsubscribe: async () => {
        const current = this.#rooms.get(roomId);
        current?.delete(id);
        if (current?.size === 0) this.#rooms.delete(roomId);
      },
    };
  }

  async close(): Promise<void> {
    this.#rooms.clear();
  }
}

/** Create an in-process bus (see `MemoryBus`). */
export function memoryBus(): MemoryBus {
  return new MemoryBus();
}
