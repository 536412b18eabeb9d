import { ProtocolError } from '@rt/transport';
import type { EJSON, EJSONValue } from './ejson.js';
import type { DDPErrorObject } from './errors.js';
import type { AddedMessage, ChangedMessage, ClientMessage, DDPMessage, Fields, RemovedMessage, ServerMessage } from './messages.js';

/**
 * A DDP message that could not be accepted. `reason` is what a server puts in its `error`
 * reply; `offendingMessage` is the parsed message, absent when the text was not JSON.
 */
export class MalformedMessageError extends ProtocolError {
  /** Short description of the problem. */
  readonly reason: string;
  /** The parsed message, when the text parsed as JSON. */
  readonly offendingMessage: unknown;

  constructor(reason: string, offendingMessage?: unknown) {
    super(`malformed DDP message: ${reason}`);
    this.reason = reason;
    this.offendingMessage = offendingMessage;
  }
}

type Raw = Record<string, unknown>;

function isPlainObject(value: unknown): value is Raw {
  if (typeof value !== 'object' || value === null) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

/** The `msg` field for error texts; JSON values only, so it can never run peer-chosen code. */
function msgName(raw: Raw): string {
  const msg = raw['msg'];
  return typeof msg === 'string' ? msg : JSON.stringify(msg) ?? 'undefined';
}

function parseObject(text: string): Raw {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new MalformedMessageError('Parse error: not JSON');
  }
  if (!isPlainObject(raw)) throw new MalformedMessageError('Bad request: a DDP message is a JSON object', raw);
  return raw;
}

function requireString(raw: Raw, key: string): string {
  const value = raw[key];
  if (typeof value !== 'string') throw new MalformedMessageError(`Malformed '${msgName(raw)}': '${key}' must be a string`, raw);
  return value;
}

function optionalString(raw: Raw, key: string): string | undefined {
  const value = raw[key];
  if (value !== undefined && typeof value !== 'string') {
    throw new MalformedMessageError(`Malformed '${msgName(raw)}': '${key}' must be a string`, raw);
  }
  return value;
}

function requireStringArray(raw: Raw, key: string): string[] {
  const value = raw[key];
  if (!isStringArray(value)) {
    throw new MalformedMessageError(`Malformed '${msgName(raw)}': '${key}' must be an array of strings`, raw);
  }
  return value;
}

/**
 * Whether `text` cannot hold an EJSON special form: every one has a key starting with `$`,
 * which JSON writes as `"$` or with a `\u` escape. Such messages skip the EJSON walk.
 */
function isPlainJSON(text: string): boolean {
  return !text.includes('"$') && !text.includes('\\u');
}

function decodeEJSON(codec: EJSON, raw: Raw, key: string, plain: boolean): EJSONValue {
  if (plain) return raw[key] as EJSONValue;
  try {
    return codec.fromJSONValue(raw[key]);
  } catch (error) {
    throw new MalformedMessageError(`Malformed EJSON in '${key}': ${(error as Error).message}`, raw);
  }
}

function decodeParams(codec: EJSON, raw: Raw, plain: boolean): EJSONValue[] {
  if (raw['params'] === undefined) return [];
  if (!Array.isArray(raw['params'])) throw new MalformedMessageError(`Malformed '${msgName(raw)}': 'params' must be an array`, raw);
  return decodeEJSON(codec, raw, 'params', plain) as EJSONValue[];
}

function decodeFields(codec: EJSON, raw: Raw, plain: boolean): Fields | undefined {
  if (raw['fields'] === undefined) return undefined;
  const fields = decodeEJSON(codec, raw, 'fields', plain);
  if (!isPlainObject(fields)) throw new MalformedMessageError(`Malformed '${msgName(raw)}': 'fields' must be an object`, raw);
  return fields as Fields;
}

function decodeErrorObject(raw: Raw): DDPErrorObject | undefined {
  const error = raw['error'];
  if (error === undefined) return undefined;
  if (!isPlainObject(error)) throw new MalformedMessageError(`Malformed '${msgName(raw)}': 'error' must be an object`, raw);
  const code = error['error'];
  const reason = error['reason'];
  const object: DDPErrorObject = { error: typeof code === 'string' || typeof code === 'number' ? code : 'unknown-error' };
  if (typeof reason === 'string') object.reason = reason;
  if (error['details'] !== undefined) object.details = error['details'];
  if (typeof error['message'] === 'string') object.message = error['message'];
  return object;
}

function decodeBefore(raw: Raw): string | null {
  const before = raw['before'];
  if (before !== null && typeof before !== 'string') {
    throw new MalformedMessageError(`Malformed '${msgName(raw)}': 'before' must be a string or null`, raw);
  }
  return before;
}

/** Serialise any DDP message, converting `fields`, `params` and `result` to EJSON. */
function encodeMessage(message: DDPMessage, codec: EJSON): string {
  switch (message.msg) {
    case 'added':
    case 'addedBefore':
    case 'changed':
      if (message.fields !== undefined) {
        const fields = codec.toJSONValue(message.fields);
        if (fields !== message.fields) return JSON.stringify({ ...message, fields });
      }
      break;
    case 'sub':
    case 'method': {
      const params = codec.toJSONValue(message.params);
      if (params !== message.params) return JSON.stringify({ ...message, params });
      break;
    }
    case 'result':
      if (message.result !== undefined) {
        const result = codec.toJSONValue(message.result);
        if (result !== message.result) return JSON.stringify({ ...message, result });
      }
      break;
    default:
      break;
  }
  return JSON.stringify(message);
}

/** Serialise a message a client sends. Throws `EJSONError` when params cannot be carried. */
export function encodeClientMessage(message: ClientMessage, codec: EJSON): string {
  return encodeMessage(message, codec);
}

/** Serialise a message a server sends. Throws `EJSONError` when fields or results cannot be carried. */
export function encodeServerMessage(message: ServerMessage, codec: EJSON): string {
  return encodeMessage(message, codec);
}

/**
 * Parse and validate a message received by a server. Unknown fields are dropped, as DDP
 * requires. Throws `MalformedMessageError` for anything a server must answer with `error`.
 */
export function decodeClientMessage(text: string, codec: EJSON): ClientMessage {
  const raw = parseObject(text);
  const plain = isPlainJSON(text);
  switch (raw['msg']) {
    case 'connect': {
      const version = requireString(raw, 'version');
      const support = raw['support'] === undefined ? [version] : requireStringArray(raw, 'support');
      const session = optionalString(raw, 'session');
      return session === undefined ? { msg: 'connect', version, support } : { msg: 'connect', version, support, session };
    }
    case 'ping':
    case 'pong': {
      const id = optionalString(raw, 'id');
      return id === undefined ? { msg: raw['msg'] } : { msg: raw['msg'], id };
    }
    case 'sub': {
      const id = requireString(raw, 'id');
      const name = requireString(raw, 'name');
      return { msg: 'sub', id, name, params: decodeParams(codec, raw, plain) };
    }
    case 'unsub':
      return { msg: 'unsub', id: requireString(raw, 'id') };
    case 'method': {
      const id = requireString(raw, 'id');
      const method = requireString(raw, 'method');
      const randomSeed = optionalString(raw, 'randomSeed');
      const params = decodeParams(codec, raw, plain);
      return randomSeed === undefined ? { msg: 'method', id, method, params } : { msg: 'method', id, method, params, randomSeed };
    }
    default:
      throw new MalformedMessageError(
        raw['msg'] === undefined ? "Bad request: no 'msg' field" : `Bad request: unknown message type '${msgName(raw)}'`,
        raw,
      );
  }
}

/**
 * Parse and validate a message received by a client. Returns `undefined` for a message
 * without `msg` (servers may send one first; clients ignore it). Throws
 * `MalformedMessageError` for anything else that is not a valid server message.
 */
export function decodeServerMessage(text: string, codec: EJSON): ServerMessage | undefined {
  const raw = parseObject(text);
  const plain = isPlainJSON(text);
  switch (raw['msg']) {
    case undefined:
      return undefined;
    // The hot data messages are validated and returned in place (unknown fields are left
    // alone, which is how DDP asks receivers to treat them).
    case 'added':
    case 'changed': {
      requireString(raw, 'collection');
      requireString(raw, 'id');
      const fields = decodeFields(codec, raw, plain);
      if (fields !== raw['fields']) raw['fields'] = fields;
      if (raw['msg'] === 'changed' && raw['cleared'] !== undefined) requireStringArray(raw, 'cleared');
      return raw as unknown as AddedMessage | ChangedMessage;
    }
    case 'removed':
      requireString(raw, 'collection');
      requireString(raw, 'id');
      return raw as unknown as RemovedMessage;
    case 'ready':
      return { msg: 'ready', subs: requireStringArray(raw, 'subs') };
    case 'nosub': {
      const id = requireString(raw, 'id');
      const error = decodeErrorObject(raw);
      return error === undefined ? { msg: 'nosub', id } : { msg: 'nosub', id, error };
    }
    case 'result': {
      const id = requireString(raw, 'id');
      const error = decodeErrorObject(raw);
      if (error !== undefined) return { msg: 'result', id, error };
      return raw['result'] === undefined ? { msg: 'result', id } : { msg: 'result', id, result: decodeEJSON(codec, raw, 'result', plain) };
    }
    case 'updated':
      return { msg: 'updated', methods: requireStringArray(raw, 'methods') };
    case 'connected':
      return { msg: 'connected', session: requireString(raw, 'session') };
    case 'failed':
      return { msg: 'failed', version: requireString(raw, 'version') };
    case 'ping':
    case 'pong': {
      const id = optionalString(raw, 'id');
      return id === undefined ? { msg: raw['msg'] } : { msg: raw['msg'], id };
    }
    case 'error': {
      const reason = typeof raw['reason'] === 'string' ? raw['reason'] : 'unspecified';
      return raw['offendingMessage'] === undefined
        ? { msg: 'error', reason }
        : { msg: 'error', reason, offendingMessage: raw['offendingMessage'] };
    }
    case 'addedBefore': {
      const fields = decodeFields(codec, raw, plain);
      const message = {
        msg: 'addedBefore',
        collection: requireString(raw, 'collection'),
        id: requireString(raw, 'id'),
        before: decodeBefore(raw),
      } as const;
      return fields === undefined ? message : { ...message, fields };
    }
    case 'movedBefore':
      return {
        msg: 'movedBefore',
        collection: requireString(raw, 'collection'),
        id: requireString(raw, 'id'),
        before: decodeBefore(raw),
      };
    default:
      throw new MalformedMessageError(`unknown message type '${msgName(raw)}'`, raw);
  }
}
