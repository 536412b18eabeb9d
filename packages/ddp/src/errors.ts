import { ConnectionError, ProtocolError, RtError } from '@rt/transport';

/** Raised when a value cannot be converted to or from EJSON. */
export class EJSONError extends RtError {
  constructor(message: string) {
    super('ERR_EJSON', message);
  }
}

/** The fields of a DDP error object as it travels in `result` and `nosub` messages. */
export interface DDPErrorObject {
  /** Error code: a string such as `'not-authorized'`, or an HTTP-like number in older peers. */
  error: string | number;
  /** Human-readable reason. */
  reason?: string;
  /** Extra, JSON-serialisable information. */
  details?: unknown;
  /** `reason [error]`, as Meteor formats it. */
  message?: string;
  /** Always `'Meteor.Error'`. */
  errorType?: string;
}

function formatMessage(error: string | number, reason: string | undefined): string {
  return reason === undefined ? `[${error}]` : `${reason} [${error}]`;
}

/**
 * An application error carried by DDP, the counterpart of Meteor's `Meteor.Error`.
 * Throw it from a server method or publication to send `error`, `reason` and `details`
 * to the client; the client rejects calls with it.
 */
export class DDPError extends RtError {
  /** The error code chosen by the server (`'not-found'`, `404`, ...). */
  readonly error: string | number;
  /** Human-readable reason, when given. */
  readonly reason: string | undefined;
  /** Extra information, when given. */
  readonly details: unknown;

  constructor(error: string | number, reason?: string, details?: unknown) {
    super('ERR_DDP', formatMessage(error, reason));
    this.error = error;
    this.reason = reason;
    this.details = details;
  }

  /** The wire form of this error (Meteor's `Meteor.Error` shape). */
  toErrorObject(): DDPErrorObject {
    const object: DDPErrorObject = { error: this.error, message: this.message, errorType: 'Meteor.Error' };
    if (this.reason !== undefined) object.reason = this.reason;
    if (this.details !== undefined) object.details = this.details;
    return object;
  }
}

/** Build a `DDPError` (or subclass) from a DDP error object received from a peer. */
export function errorFromObject(object: DDPErrorObject): DDPError {
  return new DDPError(object.error, object.reason, object.details);
}

/** A subscription ended with an error (`nosub` with `error`), or stopped before it was ready. */
export class SubscriptionError extends DDPError {
  /** The subscription's id. */
  readonly subscriptionId: string;
  /** The publication's name. */
  readonly subscriptionName: string;

  constructor(subscriptionId: string, subscriptionName: string, cause: DDPErrorObject) {
    super(cause.error, cause.reason, cause.details);
    this.subscriptionId = subscriptionId;
    this.subscriptionName = subscriptionName;
  }
}

/**
 * A method marked `noRetry` was in flight when the connection dropped: the server may or
 * may not have run it, so the client does not send it again.
 */
export class InvocationFailedError extends DDPError {
  constructor(method: string) {
    super(
      'invocation-failed',
      `the connection was lost while '${method}' was in flight; it may or may not have run on the server`,
    );
  }
}

/** The server and the client could not agree on a DDP version. */
export class VersionMismatchError extends ConnectionError {
  /** The version the server asked for, which this client does not speak. */
  readonly serverVersion: string;

  constructor(serverVersion: string, supported: readonly string[]) {
    super(`DDP version negotiation failed: the server wants '${serverVersion}', this client speaks ${supported.join(', ')}`);
    this.serverVersion = serverVersion;
  }
}

/** The server answered with a top-level DDP `error` message: it rejected something we sent. */
export class ServerProtocolError extends ProtocolError {
  /** The server's description of the problem. */
  readonly reason: string;
  /** The message the server could not accept, when it could parse it. */
  readonly offendingMessage: unknown;

  constructor(reason: string, offendingMessage: unknown) {
    super(`the server rejected a message: ${reason}`);
    this.reason = reason;
    this.offendingMessage = offendingMessage;
  }
}

/** A collection event queue fell further behind than its high water mark and was closed. */
export class QueueOverflowError extends RtError {
  /** The high water mark that was exceeded. */
  readonly highWaterMark: number;

  constructor(highWaterMark: number) {
    super('ERR_QUEUE_OVERFLOW', `the event queue exceeded its high water mark of ${highWaterMark} events`);
    this.highWaterMark = highWaterMark;
  }
}
