import type { RPCError } from './rpc-error.js';

/** A request id: a string, a number, or `null` (a request whose id is `null` still gets a reply). */
export type RequestId = string | number | null;

/** Request parameters: positional (an array) or named (an object). */
export type Params = readonly unknown[] | { readonly [name: string]: unknown };

/** Kinds of decoded messages; one dispatch switch handles each. */
export const MessageKind = {
  /** A call that expects a reply. */
  Request: 'request',
  /** A call without a reply. */
  Notification: 'notification',
  /** A successful reply. */
  Result: 'result',
  /** An error reply. */
  Error: 'error',
  /** A message that broke the protocol and must be answered with `error` (id as far as known). */
  Invalid: 'invalid',
  /** A reply that broke the protocol: never answered, but it settles the request it names. */
  BadResponse: 'bad-response',
} as const;

/** One of the `MessageKind` values. */
export type MessageKind = (typeof MessageKind)[keyof typeof MessageKind];

/** An incoming call that expects a reply. */
export interface RequestMessage {
  readonly kind: typeof MessageKind.Request;
  readonly id: RequestId;
  readonly method: string;
  readonly params: Params | undefined;
}

/** An incoming call without a reply. */
export interface NotificationMessage {
  readonly kind: typeof MessageKind.Notification;
  readonly method: string;
  readonly params: Params | undefined;
}

/** A successful reply. */
export interface ResultMessage {
  readonly kind: typeof MessageKind.Result;
  readonly id: RequestId;
  readonly result: unknown;
}

/** An error reply. */
export interface ErrorMessage {
  readonly kind: typeof MessageKind.Error;
  readonly id: RequestId;
  readonly error: RPCError;
}

/** A message that broke the protocol; the receiver answers `error` with `id`. */
export interface InvalidMessage {
  readonly kind: typeof MessageKind.Invalid;
  readonly id: RequestId;
  readonly error: RPCError;
}

/** A reply that broke the protocol; it is not answered, but settles request `id` with `error`. */
export interface BadResponseMessage {
  readonly kind: typeof MessageKind.BadResponse;
  readonly id: RequestId;
  readonly error: RPCError;
}

/** Any decoded message object. */
export type DecodedMessage =
  | RequestMessage
  | NotificationMessage
  | ResultMessage
  | ErrorMessage
  | InvalidMessage
  | BadResponseMessage;

/** What one received text decodes to: one message, or a batch of them. */
export type DecodedPayload =
  | { readonly batch: false; readonly message: DecodedMessage }
  | { readonly batch: true; readonly messages: readonly DecodedMessage[] };

/** An outgoing call as queued by a batch builder. */
export interface OutgoingCall {
  /** The method name. */
  readonly method: string;
  /** Parameters, if any. */
  readonly params: Params | undefined;
  /** True for a notification (no reply). */
  readonly notification: boolean;
}

/** True when `value` is a valid request id (string, finite number or null). */
export function isRequestId(value: unknown): value is RequestId {
  return value === null || typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
}

/** True when `value` is a plain JSON object (not an array, not null). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
