import { ProtocolError, RtError } from '@rt/transport';
import { ErrorUri } from './error-uris.js';
import type { Dict } from './messages.js';

/**
 * The peer broke the WAMP protocol (malformed message, wrong field type, message not allowed
 * in the session's state). A router answers it with ABORT `wamp.error.protocol_violation`.
 */
export class WampProtocolError extends ProtocolError {
  /** The WAMP URI that reports this violation to the peer. */
  readonly uri: string;

  constructor(message: string, uri: string = ErrorUri.PROTOCOL_VIOLATION) {
    super(message);
    this.uri = uri;
  }
}

/** Options for `ApplicationError`. */
export interface ApplicationErrorInit {
  /** Positional error arguments. */
  args?: unknown[] | undefined;
  /** Keyword error arguments. */
  kwargs?: Dict | undefined;
  /** The ERROR details. */
  details?: Dict | undefined;
  /** The error message (default: the URI and the first string argument). */
  message?: string;
}

/**
 * An error carried by a WAMP ERROR message: thrown by a callee's handler it is sent to the
 * caller with its URI, args and kwargs; a failed call rejects with one.
 */
export class ApplicationError extends RtError {
  /** The error URI, e.g. `com.example.error.not_found`. */
  readonly uri: string;
  /** Positional error arguments. */
  readonly args: unknown[];
  /** Keyword error arguments. */
  readonly kwargs: Dict;
  /** The ERROR message's details. */
  readonly details: Dict;

  constructor(uri: string, init: ApplicationErrorInit = {}) {
    const first = init.args?.[0];
    super('ERR_WAMP_APPLICATION', init.message ?? (typeof first === 'string' ? `${uri}: ${first}` : uri));
    this.uri = uri;
    this.args = init.args ?? [];
    this.kwargs = init.kwargs ?? {};
    this.details = init.details ?? {};
  }
}

/**
 * Thrown by a procedure handler that cannot take this call now (busy, draining, missing a
 * dependency): the client answers with ERROR `wamp.error.unavailable`, and the router re-routes the
 * call to another callee of a shared registration (call re-routing). The caller only sees an error,
 * `wamp.error.no_available_callee`, once no callee is left. Throwing
 * `new ApplicationError(ErrorUri.UNAVAILABLE)` does the same.
 */
export class UnavailableError extends ApplicationError {
  constructor(message = 'the callee is unavailable') {
    super(ErrorUri.UNAVAILABLE, { message });
  }
}

/**
 * The router refused or ended the session with an ABORT message (`reason` is its URI). Not to be
 * confused with `@rt/transport`'s `AbortError` for aborted signals.
 */
export class AbortError extends RtError {
  /** The ABORT reason URI. */
  readonly reason: string;
  /** The ABORT details. */
  readonly details: Dict;

  constructor(reason: string, details: Dict = {}) {
    const message = typeof details['message'] === 'string' ? `${reason}: ${details['message']}` : reason;
    super('ERR_WAMP_ABORTED', message);
    this.reason = reason;
    this.details = details;
  }
}

/** Authentication failed: no common method, a bad secret, or the router refused the credentials. */
export class AuthError extends AbortError {}

/** The client was closed (or its connection lost) while the operation was pending. */
export class ClientClosedError extends RtError {
  constructor(message = 'the WAMP client is closed', options: { cause?: unknown } = {}) {
    super('ERR_WAMP_CLOSED', message, options);
  }
}

/** A call was canceled by its caller (CANCEL) or its signal. */
export class CanceledError extends ApplicationError {
  constructor(init: ApplicationErrorInit = {}) {
    super(ErrorUri.CANCELED, init);
  }
}

/** Builds the error thrown for an ERROR message. */
export type ApplicationErrorClass = new (uri: string, init: ApplicationErrorInit) => ApplicationError;

interface PatternEntry {
  prefix: string;
  errorClass: ApplicationErrorClass;
}

/**
 * Maps error URIs to error classes, so `catch (e) { if (e instanceof NotFound) ... }` works for
 * errors raised by remote callees. Exact URIs win over prefix patterns (`com.example.error.*`);
 * the longest prefix wins among patterns.
 */
export class ErrorRegistry {
  readonly #exact = new Map<string, ApplicationErrorClass>();
  #patterns: PatternEntry[] = [];

  /** Map `uri` (or a pattern ending in `.*` or `*`) to `errorClass`. */
  register(uri: string, errorClass: ApplicationErrorClass): void {
    if (uri.endsWith('*')) {
      this.#patterns.push({ prefix: uri.slice(0, -1), errorClass });
      this.#patterns.sort((a, b) => b.prefix.length - a.prefix.length);
    } else this.#exact.set(uri, errorClass);
  }

  /** The class registered for `uri`, if any. */
  lookup(uri: string): ApplicationErrorClass | undefined {
    const exact = this.#exact.get(uri);
    if (exact !== undefined) return exact;
    return this.#patterns.find((entry) => uri.startsWith(entry.prefix))?.errorClass;
  }

  /** Build the error for an ERROR message: a registered class, `CanceledError`, or `ApplicationError`. */
  create(uri: string, init: ApplicationErrorInit): ApplicationError {
    const errorClass = this.lookup(uri);
    if (errorClass !== undefined) return new errorClass(uri, init);
    if (uri === ErrorUri.CANCELED) return new CanceledError(init);
    return new ApplicationError(uri, init);
  }
}
