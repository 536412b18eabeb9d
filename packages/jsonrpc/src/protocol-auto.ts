import { isJsonObject } from './messages.js';
import { type Protocol } from './protocol.js';
import { JSONRPCLoose } from './protocol-loose.js';
import { JSONRPCv1 } from './protocol-v1.js';
import { JSONRPCv2, JSONRPCv2Protocol } from './protocol-v2.js';

function protocolOf(payload: unknown): Protocol {
  if (!isJsonObject(payload)) return JSONRPCLoose;
  const version = payload['jsonrpc'];
  if (version === '2.0') return JSONRPCv2;
  if (version === '1.0') return JSONRPCv1;
  if ('result' in payload && 'error' in payload) return JSONRPCv1;
  // A versionless call with an id and positional (or no) params is JSON-RPC 1.0's shape.
  if ('method' in payload && 'id' in payload && (payload['params'] === undefined || Array.isArray(payload['params']))) {
    return JSONRPCv1;
  }
  return JSONRPCLoose;
}

/**
 * Picks the protocol from the first message the peer sends: an explicit `"jsonrpc"`
 * wins; a reply with both `result` and `error`, or a versionless call with an `id` and
 * positional params, means 1.0; anything else is loose. Until then it speaks JSON-RPC 2.0.
 */
export class JSONRPCAutoDetectProtocol extends JSONRPCv2Protocol {
  override readonly name: string = 'JSON-RPC (auto-detect)';

  /** The protocol to use for a peer whose first parsed message is `payload`. */
  detect(payload: unknown): Protocol {
    if (!Array.isArray(payload)) return protocolOf(payload);
    const found = new Set(payload.map(protocolOf));
    if (found.size === 1) return [...found][0] as Protocol;
    if (found.has(JSONRPCv2)) return JSONRPCv2;
    if (found.has(JSONRPCv1)) return JSONRPCv1;
    return JSONRPCLoose;
  }
}

/** The auto-detecting protocol. */
export const JSONRPCAutoDetect: JSONRPCAutoDetectProtocol = new JSONRPCAutoDetectProtocol();
