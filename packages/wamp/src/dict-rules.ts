import { WampProtocolError } from './errors.js';
import { MessageType } from './message-types.js';
import type { Dict } from './messages.js';

/** Largest WAMP ID (2^53). */
export const MAX_ID = 2 ** 53;

type Check = (value: unknown) => boolean;

/** True for a WAMP ID: an integer in [0, 2^53]. */
export const isId: Check = (value) => typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_ID;
/** True for a plain dictionary (not an array, not null, not binary). */
export const isDict = (value: unknown): value is Dict =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);

const isBool: Check = (value) => typeof value === 'boolean';
const isString: Check = (value) => typeof value === 'string';
const isNonNegativeInt: Check = (value) => typeof value === 'number' && Number.isInteger(value) && value >= 0;
const listOf = (item: Check): Check => (value) => Array.isArray(value) && value.every(item);
const oneOf = (...allowed: string[]): Check => (value) => typeof value === 'string' && allowed.includes(value);
const standardOrCustom = (...allowed: string[]): Check => (value) =>
  typeof value === 'string' && (allowed.includes(value) || value.startsWith('x_'));
const isForwardFor = listOf(
  (hop) => isDict(hop) && isId(hop['session']) && isString(hop['authid']) && isString(hop['authrole']),
);

const encryption: Record<string, Check> = {
  enc_algo: standardOrCustom('cryptobox', 'mqtt', 'xbr'),
  enc_serializer: standardOrCustom('json', 'msgpack', 'cbor', 'ubjson', 'flatbuffers', 'opaque'),
  enc_key: isString,
};
const match = oneOf('exact', 'prefix', 'wildcard');
const cancelMode = oneOf('skip', 'kill', 'killnowait');

/**
 * Types of the Options/Details keys the spec defines, per message type. Keys not listed are
 * accepted as they are (the spec lets peers add their own); listed keys must have the right type.
 */
const rules: Partial<Record<number, Record<string, Check>>> = {
  [MessageType.PUBLISH]: {
    acknowledge: isBool, exclude_me: isBool, disclose_me: isBool, retain: isBool,
    exclude: listOf(isId), exclude_authid: listOf(isString), exclude_authrole: listOf(isString),
    eligible: listOf(isId), eligible_authid: listOf(isString), eligible_authrole: listOf(isString),
    transaction_hash: isString, forward_for: isForwardFor, ...encryption,
  },
  [MessageType.SUBSCRIBE]: { match, get_retained: isBool, forward_for: isForwardFor },
  [MessageType.EVENT]: {
    publisher: isId, publisher_authid: isString, publisher_authrole: isString, topic: isString,
    retained: isBool, transaction_hash: isString, x_acknowledged_delivery: isBool, forward_for: isForwardFor,
    ...encryption,
  },
  [MessageType.CALL]: {
    timeout: isNonNegativeInt, receive_progress: isBool, disclose_me: isBool, progress: isBool,
    transaction_hash: isString, forward_for: isForwardFor, ...encryption,
  },
  [MessageType.CANCEL]: { mode: cancelMode, forward_for: isForwardFor },
  [MessageType.RESULT]: { progress: isBool, forward_for: isForwardFor, ...encryption },
  [MessageType.REGISTER]: {
    match, invoke: oneOf('single', 'roundrobin', 'random', 'first', 'last'), disclose_caller: isBool,
    concurrency: isNonNegativeInt, force_reregister: isBool, forward_for: isForwardFor,
  },
  [MessageType.INVOCATION]: {
    caller: isId, caller_authid: isString, caller_authrole: isString, procedure: isString,
    receive_progress: isBool, progress: isBool, timeout: isNonNegativeInt, trustlevel: isNonNegativeInt, transaction_hash: isString,
    forward_for: isForwardFor, ...encryption,
  },
  [MessageType.INTERRUPT]: { mode: cancelMode, reason: isString, forward_for: isForwardFor },
  [MessageType.YIELD]: { progress: isBool, forward_for: isForwardFor, ...encryption },
  [MessageType.ERROR]: { forward_for: isForwardFor, ...encryption },
  [MessageType.HELLO]: { roles: isDict, authmethods: listOf(isString), authid: isString, authrole: isString, authextra: isDict },
  [MessageType.WELCOME]: { roles: isDict, authid: isString, authrole: isString, authmethod: isString, authprovider: isString, authextra: isDict },
};

/** Throw `WampProtocolError` when a set (non-null) key of `dict` has the wrong type for messages of `type`. */
export function checkDict(type: number, field: string, dict: Dict): void {
  const table = rules[type];
  if (table === undefined) return;
  for (const key in dict) {
    const check = table[key];
    // A nil or undefined value means "not set" (MessagePack peers encode unset options so).
    if (check !== undefined && dict[key] != null && !check(dict[key])) {
      throw new WampProtocolError(`invalid type or value for ${field}.${key}: ${JSON.stringify(dict[key]) ?? String(dict[key])}`);
    }
  }
}
