/**
 * Typed errors shared by every rt package. Each carries a stable `code` so callers can
 * branch without `instanceof` across package copies.
 */

/** Options accepted by every rt error constructor. */
export interface RtErrorOptions {
  /** The underlying error, if any. */
  cause?: unknown;
}

/** Base class of every error thrown by rt packages. */
export class RtError extends Error {
  /** A stable, machine-readable error code. */
  readonly code: string;

  constructor(code: string, message: string, options: RtErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = new.target.name;
  }
}

/** The connection could not be made, or was lost while work was pending. */
export class ConnectionError extends RtError {
  /** Close code reported by the transport, when known (WebSocket close codes). */
  readonly closeCode: number | undefined;
  /** Close reason reported by the transport, when known. */
  readonly closeReason: string | undefined;

  constructor(message: string, options: RtErrorOptions & { closeCode?: number; closeReason?: string } = {}) {
    super('ERR_CONNECTION', message, options);
    this.closeCode = options.closeCode;
    this.closeReason = options.closeReason;
  }
}

/** A call or wait took longer than its allowed time. */
export class TimeoutError extends RtError {
  /** The time limit that was exceeded, in milliseconds. */
  readonly timeoutMs: number;

  constructor(message: string, timeoutMs: number, options: RtErrorOptions = {}) {
    super('ERR_TIMEOUT', message, options);
    this.timeoutMs = timeoutMs;
  }
}

/** The peer broke the protocol (malformed frame, unexpected message, bad header). */
export class ProtocolError extends RtError {
  constructor(message: string, options: RtErrorOptions = {}) {
    super('ERR_PROTOCOL', message, options);
  }
}

/** A message exceeded a configured size limit. */
export class MessageTooLargeError extends ProtocolError {
  /** Size of the offending message in bytes (at least this many when not fully read). */
  readonly size: number;
  /** The configured limit in bytes. */
  readonly limit: number;

  constructor(size: number, limit: number) {
    super(`message of ${size} bytes exceeds the limit of ${limit} bytes`);
    this.size = size;
    this.limit = limit;
  }
}

/** A wait was cancelled through an `AbortSignal`. */
export class AbortError extends RtError {
  constructor(message = 'the operation was aborted', options: RtErrorOptions = {}) {
    super('ERR_ABORTED', message, options);
  }
}

/** The object was used after it was closed. */
export class ClosedError extends RtError {
  constructor(message = 'the transport is closed', options: RtErrorOptions = {}) {
    super('ERR_CLOSED', message, options);
  }
}
