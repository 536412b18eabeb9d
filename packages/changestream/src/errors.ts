import { ConnectionError, TimeoutError } from '@rt/transport';
import { codeNameOf, ErrorCode, RESUMABLE_LABEL } from './error-codes.js';

/** The fields of a change stream error document (`{ ok: 0, code, codeName, errmsg, errorLabels }`). */
export interface ErrorDocument {
  readonly code: number;
  readonly codeName: string;
  readonly errmsg: string;
  readonly errorLabels: readonly string[];
}

/**
 * An error reported by a change stream server (or raised by the client for a condition the
 * specification defines, such as a missing resume token). `code` is MongoDB's numeric code.
 */
export class ChangeStreamError extends Error {
  /** Numeric error code (286 history lost, 43 cursor not found, ...). */
  readonly code: number;
  /** Name of the code (`ChangeStreamHistoryLost`, ...). */
  readonly codeName: string;
  /** Labels such as `ResumableChangeStreamError`. */
  readonly errorLabels: readonly string[];

  constructor(code: number, message: string, options: { codeName?: string; errorLabels?: readonly string[]; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ChangeStreamError';
    this.code = code;
    this.codeName = options.codeName ?? codeNameOf(code);
    this.errorLabels = options.errorLabels ?? [];
  }

  /** True when the error carries `label`. */
  hasErrorLabel(label: string): boolean {
    return this.errorLabels.includes(label);
  }

  /** The error as an error document. */
  toDocument(): ErrorDocument {
    return { code: this.code, codeName: this.codeName, errmsg: this.message, errorLabels: [...this.errorLabels] };
  }

  /** Rebuild an error from an error document. */
  static fromDocument(document: ErrorDocument): ChangeStreamError {
    return new ChangeStreamError(document.code, document.errmsg, {
      codeName: document.codeName,
      errorLabels: document.errorLabels,
    });
  }
}

/**
 * Whether a change stream may resume after `error`, per the specification: network errors,
 * `CursorNotFound`, and server errors labelled `ResumableChangeStreamError`. Never after lost
 * history (286) or a fatal error (280).
 */
export function isResumableError(error: unknown): boolean {
  if (error instanceof ConnectionError || error instanceof TimeoutError) return true;
  if (!(error instanceof ChangeStreamError)) return false;
  if (error.code === ErrorCode.ChangeStreamHistoryLost || error.code === ErrorCode.ChangeStreamFatalError) return false;
  return error.code === ErrorCode.CursorNotFound || error.hasErrorLabel(RESUMABLE_LABEL);
}
