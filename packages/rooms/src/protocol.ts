/**
 * The y-websocket wire format: one binary frame per message, a varUint message type
 * followed by its body. Encoding goes through y-protocols and lib0; decoding is strict
 * (bounds-checked lengths, no trailing bytes) so bad input is reported, never guessed at.
 */
import { ProtocolError } from '@rt/transport';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as authProtocol from 'y-protocols/auth';
import * as awarenessProtocol from 'y-protocols/awareness';
import * as syncProtocol from 'y-protocols/sync';
import type * as Y from 'yjs';

/** Top-level message type: a y-protocols sync message follows. */
export const MESSAGE_SYNC = 0;
/** Top-level message type: an awareness update follows. */
export const MESSAGE_AWARENESS = 1;
/** Top-level message type: an auth message follows. */
export const MESSAGE_AUTH = 2;
/** Top-level message type: the peer asks for every awareness state it does not have. */
export const MESSAGE_QUERY_AWARENESS = 3;

/** Sync sub-type: the sender's state vector; the receiver answers with step 2. */
export const SYNC_STEP1 = syncProtocol.messageYjsSyncStep1;
/** Sync sub-type: everything the receiver lacked, as one update. */
export const SYNC_STEP2 = syncProtocol.messageYjsSyncStep2;
/** Sync sub-type: one live document update. */
export const SYNC_UPDATE = syncProtocol.messageYjsUpdate;
/** Auth sub-type: the server refused this connection. */
export const AUTH_PERMISSION_DENIED = authProtocol.messagePermissionDenied;

/** One decoded protocol message. */
export type RoomMessage =
  | { readonly type: 'sync-step1'; readonly stateVector: Uint8Array }
  | { readonly type: 'sync-step2'; readonly update: Uint8Array }
  | { readonly type: 'update'; readonly update: Uint8Array }
  | { readonly type: 'awareness'; readonly update: Uint8Array }
  | { readonly type: 'query-awareness' }
  | { readonly type: 'permission-denied'; readonly reason: string };

/** The `type` of a `RoomMessage`. */
export type RoomMessageType = RoomMessage['type'];

/** One entry of an awareness update. */
export interface AwarenessEntry {
  /** The Yjs client id the state belongs to. */
  readonly clientId: number;
  /** Logical clock of the state; a higher clock wins. */
  readonly clock: number;
  /** The state, or `null` when the client went away. */
  readonly state: unknown;
}

/** Encode a sync step 1 carrying `doc`'s state vector. */
export function encodeSyncStep1(doc: Y.Doc): Uint8Array {
  return encodeWith(MESSAGE_SYNC, (encoder) => syncProtocol.writeSyncStep1(encoder, doc));
}

/** Encode a sync step 2 with everything in `doc` that a peer with `stateVector` lacks. */
export function encodeSyncStep2(doc: Y.Doc, stateVector?: Uint8Array): Uint8Array {
  return encodeWith(MESSAGE_SYNC, (encoder) => syncProtocol.writeSyncStep2(encoder, doc, stateVector));
}

/** Encode one live document update. */
export function encodeUpdate(update: Uint8Array): Uint8Array {
  return encodeWith(MESSAGE_SYNC, (encoder) => syncProtocol.writeUpdate(encoder, update));
}

/** Encode the awareness states of `clients` (all known clients by default). */
export function encodeAwareness(awareness: awarenessProtocol.Awareness, clients?: number[]): Uint8Array {
  const update = awarenessProtocol.encodeAwarenessUpdate(awareness, clients ?? [...awareness.getStates().keys()]);
  return encodeAwarenessUpdateMessage(update);
}

/** Wrap an already encoded awareness update in a message. */
export function encodeAwarenessUpdateMessage(update: Uint8Array): Uint8Array {
  return encodeWith(MESSAGE_AWARENESS, (encoder) => encoding.writeVarUint8Array(encoder, update));
}

/** An awareness message with no entries: harmless to every peer, and proof of life. */
export const EMPTY_AWARENESS_MESSAGE: Uint8Array = encodeAwarenessUpdateMessage(Uint8Array.of(0));

/** Encode a query for all awareness states. */
export function encodeQueryAwareness(): Uint8Array {
  return encodeWith(MESSAGE_QUERY_AWARENESS, () => undefined);
}

/** Encode a permission-denied auth message with a human-readable reason. */
export function encodePermissionDenied(reason: string): Uint8Array {
  return encodeWith(MESSAGE_AUTH, (encoder) => authProtocol.writePermissionDenied(encoder, reason));
}

/** Encode any `RoomMessage` from its parts (the inverse of `decodeMessage`). */
export function encodeMessage(message: RoomMessage): Uint8Array {
  switch (message.type) {
    case 'sync-step1':
      return encodeSyncPart(SYNC_STEP1, message.stateVector);
    case 'sync-step2':
      return encodeSyncPart(SYNC_STEP2, message.update);
    case 'update':
      return encodeUpdate(message.update);
    case 'awareness':
      return encodeAwarenessUpdateMessage(message.update);
    case 'query-awareness':
      return encodeQueryAwareness();
    case 'permission-denied':
      return encodePermissionDenied(message.reason);
  }
}

/**
 * Decode one frame. Throws `ProtocolError` naming what is wrong: an unknown type, a
 * truncated or oversized varint, a length past the end, or bytes left over.
 */
export function decodeMessage(frame: Uint8Array): RoomMessage {
  const decoder = decoding.createDecoder(frame);
  const type = readUint(decoder, 'message type');
  let message: RoomMessage;
  switch (type) {
    case MESSAGE_SYNC:
      message = readSync(decoder);
      break;
    case MESSAGE_AWARENESS:
      message = { type: 'awareness', update: readBytes(decoder, 'awareness update') };
      break;
    case MESSAGE_AUTH:
      message = readAuth(decoder);
      break;
    case MESSAGE_QUERY_AWARENESS:
      message = { type: 'query-awareness' };
      break;
    default:
      throw new ProtocolError(`unknown message type ${type}`);
  }
  const left = frame.length - decoder.pos;
  if (left !== 0) throw new ProtocolError(`${left} unexpected trailing byte(s) after a ${message.type} message`);
  return message;
}

/**
 * Decode an awareness update without applying it, so a malformed one is refused whole
 * rather than half-applied. Throws `ProtocolError`.
 */
export function decodeAwarenessUpdate(update: Uint8Array): AwarenessEntry[] {
  const decoder = decoding.createDecoder(update);
  const count = readUint(decoder, 'awareness entry count');
  const entries: AwarenessEntry[] = [];
  for (let index = 0; index < count; index++) {
    const clientId = readUint(decoder, 'awareness client id');
    const clock = readUint(decoder, 'awareness clock');
    const text = readString(decoder, 'awareness state');
    let state: unknown;
    try {
      state = JSON.parse(text);
    } catch {
      throw new ProtocolError(`awareness state of client ${clientId} is not JSON`);
    }
    entries.push({ clientId, clock, state });
  }
  const left = update.length - decoder.pos;
  if (left !== 0) throw new ProtocolError(`${left} unexpected trailing byte(s) after an awareness update`);
  return entries;
}

/**
 * Encode awareness entries as an awareness update (the inverse of `decodeAwarenessUpdate`);
 * a `null` state withdraws that client's presence.
 */
export function encodeAwarenessEntries(entries: readonly AwarenessEntry[]): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, entries.length);
  for (const entry of entries) {
    encoding.writeVarUint(encoder, entry.clientId);
    encoding.writeVarUint(encoder, entry.clock);
    encoding.writeVarString(encoder, JSON.stringify(entry.state ?? null));
  }
  return encoding.toUint8Array(encoder);
}

function readSync(decoder: decoding.Decoder): RoomMessage {
  const subtype = readUint(decoder, 'sync message type');
  switch (subtype) {
    case SYNC_STEP1:
      return { type: 'sync-step1', stateVector: readBytes(decoder, 'state vector') };
    case SYNC_STEP2:
      return { type: 'sync-step2', update: readBytes(decoder, 'sync step 2 update') };
    case SYNC_UPDATE:
      return { type: 'update', update: readBytes(decoder, 'update') };
    default:
      throw new ProtocolError(`unknown sync message type ${subtype}`);
  }
}

function readAuth(decoder: decoding.Decoder): RoomMessage {
  const subtype = readUint(decoder, 'auth message type');
  if (subtype !== AUTH_PERMISSION_DENIED) throw new ProtocolError(`unknown auth message type ${subtype}`);
  return { type: 'permission-denied', reason: readString(decoder, 'permission denied reason') };
}

function readUint(decoder: decoding.Decoder, what: string): number {
  try {
    return decoding.readVarUint(decoder);
  } catch (error) {
    const detail = decoder.pos >= decoder.arr.length ? 'truncated' : 'out of range';
    throw new ProtocolError(`bad varint for the ${what}: ${detail}`, { cause: error });
  }
}

function readBytes(decoder: decoding.Decoder, what: string): Uint8Array {
  const length = readUint(decoder, `length of the ${what}`);
  const available = decoder.arr.length - decoder.pos;
  // lib0 would silently return a short view; a length past the end is a broken frame.
  if (length > available) {
    throw new ProtocolError(`the ${what} claims ${length} bytes but only ${available} remain`);
  }
  return decoding.readUint8Array(decoder, length);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function readString(decoder: decoding.Decoder, what: string): string {
  const bytes = readBytes(decoder, what);
  try {
    return utf8.decode(bytes);
  } catch {
    throw new ProtocolError(`the ${what} is not valid UTF-8`);
  }
}

function encodeSyncPart(subtype: number, payload: Uint8Array): Uint8Array {
  return encodeWith(MESSAGE_SYNC, (encoder) => {
    encoding.writeVarUint(encoder, subtype);
    encoding.writeVarUint8Array(encoder, payload);
  });
}

function encodeWith(type: number, writeBody: (encoder: encoding.Encoder) => void): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, type);
  writeBody(encoder);
  return encoding.toUint8Array(encoder);
}
