import {
  INTERNAL_ERROR,
  INVALID_PARAMS,
  INVALID_REQUEST,
  METHOD_NOT_FOUND,
  PARSE_ERROR,
} from './codes.js';

/** Options for an `RPCError`. */
export interface RPCErrorOptions {
  /** Extra cost charged to the session that caused the error (see cost-based throttling). */
  cost?: number;
  /** The underlying error, if any. */
  cause?: unknown;
}

/**
 * A JSON-RPC error object: thrown by handlers to answer with an error, and the rejection
 * of `sendRequest` when the peer answered with one.
 */
export class RPCError extends Error {
  /** The JSON-RPC error code (an integer). */
  readonly code: number;
  /** Optional structured details sent with the error (`error.data`). */
  readonly data: unknown;
  /** Extra throttling cost charged to the peer that caused this error. */
  readonly cost: number;

  constructor(code: number, message: string, data?: unknown, options: RPCErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RPCError';
    this.code = code;
    this.data = data;
    this.cost = options.cost ?? 0;
  }

  /** A -32700 parse error. */
  static parseError(message = 'Parse error', data?: unknown): RPCError {
    return new RPCError(PARSE_ERROR, message, data);
  }

  /** A -32600 invalid request error. */
  static invalidRequest(message = 'Invalid Request', data?: unknown): RPCError {
    return new RPCError(INVALID_REQUEST, message, data);
  }

  /** A -32601 method not found error. */
  static methodNotFound(method: string): RPCError {
    return new RPCError(METHOD_NOT_FOUND, `Method not found: ${method}`);
  }

  /** A -32602 invalid params error. */
  static invalidParams(message = 'Invalid params', data?: unknown): RPCError {
    return new RPCError(INVALID_PARAMS, message, data);
  }

  /** A -32603 internal error. */
  static internalError(message = 'Internal error', data?: unknown): RPCError {
    return new RPCError(INTERNAL_ERROR, message, data);
  }

  /** The error object as sent on the wire (`data` only when present). */
  toJSON(): { code: number; message: string; data?: unknown } {
    return this.data === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, data: this.data };
  }
}

/** Thrown by `sendBatch(..., { raiseErrors: true })` when any request in the batch failed. */
export class BatchError extends Error {
  /** One entry per request in the batch: its result, or the `Error` it failed with. */
  readonly results: readonly unknown[];

  constructor(results: readonly unknown[]) {
    const failed = results.filter((item) => item instanceof Error).length;
    super(`${failed} of ${results.length} batch requests failed`);
    this.name = 'BatchError';
    this.results = results;
  }
}

/**
 * Throw from a handler to answer with `reply` (a result, or an `RPCError`) and then
 * close the connection (aiorpcx's `ReplyAndDisconnect`).
 */
export class ReplyAndDisconnect extends Error {
  /** The result to answer with, or the `RPCError` to answer with. */
  readonly reply: unknown;

  constructor(reply: unknown) {
    super('reply, then disconnect');
    this.name = 'ReplyAndDisconnect';
    this.reply = reply;
  }
}
