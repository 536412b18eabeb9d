import { RtError, type RtErrorOptions } from '@rt/transport';

/**
 * The server refused the connection (y-protocols auth PermissionDenied). Carries the
 * server's reason; a client does not reconnect after it.
 */
export class PermissionDeniedError extends RtError {
  /** The reason the server gave. */
  readonly reason: string;

  constructor(reason: string, options: RtErrorOptions = {}) {
    super('ERR_PERMISSION_DENIED', `permission denied${reason ? `: ${reason}` : ''}`, options);
    this.reason = reason;
  }
}

/** A room store failed to load or persist a document. */
export class StorageError extends RtError {
  constructor(message: string, options: RtErrorOptions = {}) {
    super('ERR_STORAGE', message, options);
  }
}
