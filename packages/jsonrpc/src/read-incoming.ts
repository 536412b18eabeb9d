import type { TransportMessage } from '@rt/transport';
import type { DecodedPayload } from './messages.js';
import { invalid, isParseFailure, parseJson, type Protocol } from './protocol.js';
import { JSONRPCAutoDetectProtocol } from './protocol-auto.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** One received message, decoded, and the protocol to answer it with. */
export interface IncomingPayload {
  /** The session's protocol, or the one auto-detection chose from this message. */
  readonly protocol: Protocol;
  /** The message or batch. */
  readonly decoded: DecodedPayload;
}

/**
 * Decode one received transport message: UTF-8, JSON, protocol auto-detection, the batch
 * length limit. Resolves `undefined` when it is not UTF-8 JSON (to be answered with -32700).
 */
export function readIncoming(message: TransportMessage, protocol: Protocol, maxBatchLength: number): IncomingPayload | undefined {
  let text: string;
  if (typeof message === 'string') text = message;
  else {
    try {
      text = utf8.decode(message);
    } catch {
      return undefined;
    }
  }
  const payload = parseJson(text);
  if (isParseFailure(payload)) return undefined;
  const chosen = protocol instanceof JSONRPCAutoDetectProtocol ? protocol.detect(payload) : protocol;
  if (Array.isArray(payload) && payload.length > maxBatchLength) {
    const message = invalid(null, `a batch of ${payload.length} exceeds the limit of ${maxBatchLength}`);
    return { protocol: chosen, decoded: { batch: false, message } };
  }
  return { protocol: chosen, decoded: chosen.decodePayload(payload) };
}
