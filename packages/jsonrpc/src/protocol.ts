import { PARSE_ERROR } from './codes.js';
import {
  type BadResponseMessage,
  type DecodedMessage,
  type DecodedPayload,
  type InvalidMessage,
  MessageKind,
  type Params,
  type RequestId,
} from './messages.js';
import { RPCError } from './rpc-error.js';

/**
 * One dialect of JSON-RPC: paired encoders and decoders for every message kind. Protocols
 * are stateless; sessions pick one (`JSONRPCv2` by default).
 */
export abstract class Protocol {
  /** Short name for logs and errors. */
  abstract readonly name: string;
  /** Whether arrays of messages (batches) are allowed. */
  abstract readonly allowBatches: boolean;

  /** Encode a call that expects a reply. */
  abstract encodeRequest(id: RequestId, method: string, params?: Params): string;
  /** Encode a call without a reply. */
  abstract encodeNotification(method: string, params?: Params): string;
  /** Encode a successful reply. */
  abstract encodeResult(id: RequestId, result: unknown): string;
  /** Encode an error reply. */
  abstract encodeError(id: RequestId, error: RPCError): string;
  /** Classify one parsed message object (never throws). */
  abstract decodeMessage(payload: unknown): DecodedMessage;

  /** Join encoded messages into one batch text. */
  encodeBatch(parts: readonly string[]): string {
    return '[' + parts.join(',') + ']';
  }

  /**
   * Classify a parsed payload: one message, or a batch. An empty array, or an array where
   * batches are not allowed, is one invalid message (answered with one error object).
   */
  decodePayload(payload: unknown): DecodedPayload {
    if (!Array.isArray(payload)) return { batch: false, message: this.decodeMessage(payload) };
    if (payload.length === 0) return { batch: false, message: invalid(null, 'batch is empty') };
    if (!this.allowBatches) return { batch: false, message: invalid(null, `${this.name} does not allow batches`) };
    return { batch: true, messages: payload.map((item: unknown) => this.decodeMessage(item)) };
  }

  /** Parse and classify received text. Malformed JSON is one invalid message with a -32700 error. */
  decode(text: string): DecodedPayload {
    const payload = parseJson(text);
    if (payload === PARSE_FAILED) return { batch: false, message: parseErrorMessage() };
    return this.decodePayload(payload);
  }
}

const PARSE_FAILED: unique symbol = Symbol('parse failed');

/** `JSON.parse`, returning a marker instead of throwing. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return PARSE_FAILED;
  }
}

/** True when `parseJson` failed. */
export function isParseFailure(value: unknown): value is typeof PARSE_FAILED {
  return value === PARSE_FAILED;
}

/** The reply to text that is not JSON: -32700 with id null. */
export function parseErrorMessage(): InvalidMessage {
  return { kind: MessageKind.Invalid, id: null, error: new RPCError(PARSE_ERROR, 'Parse error') };
}

/** An invalid message answered with -32600. */
export function invalid(id: RequestId, message: string): InvalidMessage {
  return { kind: MessageKind.Invalid, id, error: RPCError.invalidRequest(`Invalid Request: ${message}`) };
}

/** A broken reply that settles request `id`. */
export function badResponse(id: RequestId, message: string): BadResponseMessage {
  return { kind: MessageKind.BadResponse, id, error: RPCError.invalidRequest(`Invalid response: ${message}`) };
}

/** JSON text of a value, with `undefined` as `null` (a reply must carry a result). */
export function json(value: unknown): string {
  return value === undefined ? 'null' : JSON.stringify(value);
}

/** JSON text of an error object. */
export function errorJson(error: RPCError): string {
  return JSON.stringify(error.toJSON());
}
