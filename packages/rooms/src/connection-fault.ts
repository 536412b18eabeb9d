import { CLOSE_INTERNAL_ERROR, CLOSE_PROTOCOL_ERROR, ProtocolError } from '@rt/transport';
import { messageOf } from './util.js';

/** A handled message ended its connection: close it with this code and reason. */
export class ConnectionFault extends Error {
  /** The WebSocket close code to end the connection with. */
  readonly closeCode: number;

  constructor(closeCode: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.closeCode = closeCode;
  }
}

/**
 * The fault that ends a connection after handling one of its messages threw `error`: a
 * `ProtocolError` closes with 1002, anything else unexpected with 1011.
 */
export function asConnectionFault(error: unknown): ConnectionFault {
  if (error instanceof ConnectionFault) return error;
  if (error instanceof ProtocolError) return new ConnectionFault(CLOSE_PROTOCOL_ERROR, error.message, { cause: error });
  return new ConnectionFault(CLOSE_INTERNAL_ERROR, `internal error: ${messageOf(error)}`, { cause: error });
}
