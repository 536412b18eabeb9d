import { checkDict, isDict, isId } from './dict-rules.js';
import { WampProtocolError } from './errors.js';
import { MessageType, messageTypeName } from './message-types.js';
import type {
  CallMessage, Dict, ErrorMessage, EventMessage, EventReceivedMessage, InvocationMessage, Payload, PublishMessage, ResultMessage, WampMessage,
  YieldMessage,
} from './messages.js';

/** Message types that ERROR may answer. */
const ERROR_REQUEST_TYPES = new Set<number>([
  MessageType.SUBSCRIBE, MessageType.UNSUBSCRIBE, MessageType.PUBLISH, MessageType.REGISTER,
  MessageType.UNREGISTER, MessageType.CALL, MessageType.INVOCATION, MessageType.CANCEL,
]);

class Reader {
  constructor(readonly raw: unknown[], readonly name: string) {}

  length(min: number, max: number): void {
    if (this.raw.length < min || this.raw.length > max) {
      const expected = min === max ? `${min}` : `${min} to ${max}`;
      throw new WampProtocolError(`${this.name} must have ${expected} elements, got ${this.raw.length}`);
    }
  }

  id(index: number, field: string): number {
    const value = this.raw[index];
    if (!isId(value)) throw new WampProtocolError(`${this.name}.${field} must be an ID, got ${describe(value)}`);
    return value as number;
  }

  string(index: number, field: string): string {
    const value = this.raw[index];
    if (typeof value !== 'string') throw new WampProtocolError(`${this.name}.${field} must be a string, got ${describe(value)}`);
    return value;
  }

  uri(index: number, field: string): string {
    const value = this.string(index, field);
    if (value.length === 0) throw new WampProtocolError(`${this.name}.${field} must be a non-empty URI`);
    return value;
  }

  dict(index: number, field: string, type: number): Dict {
    const value = this.raw[index];
    if (!isDict(value)) throw new WampProtocolError(`${this.name}.${field} must be a dictionary, got ${describe(value)}`);
    checkDict(type, field, value);
    return value;
  }

  /** Reads args/kwargs (or a transparent payload when `enc_algo` is set) from `index` on into `out`; returns `out`. */
  payload<T extends Payload>(index: number, dict: Dict, out: T): T {
    const first = this.raw[index];
    if (dict['enc_algo'] !== undefined) {
      if (this.raw.length > index + 1) throw new WampProtocolError(`${this.name} with a transparent payload has too many elements`);
      if (first === undefined) return out;
      if (typeof first !== 'string' && !(first instanceof Uint8Array)) {
        throw new WampProtocolError(`${this.name} transparent payload must be binary, got ${describe(first)}`);
      }
      out.payload = first;
      return out;
    }
    if (this.raw.length > index) {
      if (!Array.isArray(first)) throw new WampProtocolError(`${this.name}.Arguments must be a list, got ${describe(first)}`);
      out.args = first;
    }
    if (this.raw.length > index + 1) {
      const kwargs = this.raw[index + 1];
      if (!isDict(kwargs)) throw new WampProtocolError(`${this.name}.ArgumentsKw must be a dictionary, got ${describe(kwargs)}`);
      out.kwargs = kwargs;
    }
    return out;
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (value instanceof Uint8Array) return 'binary';
  return typeof value;
}

/**
 * Validate a deserialized message (a list) and turn it into a typed `WampMessage`. Throws
 * `WampProtocolError` for anything the spec does not allow: unknown type codes, wrong element
 * counts, wrong element types, wrongly typed Options/Details entries.
 */
export function decodeMessage(raw: unknown): WampMessage {
  if (!Array.isArray(raw) || raw.length === 0) throw new WampProtocolError('a WAMP message must be a non-empty list');
  const type = raw[0] as unknown;
  const name = typeof type === 'number' ? messageTypeName(type) : undefined;
  if (name === undefined) throw new WampProtocolError(`unknown WAMP message type ${JSON.stringify(type) ?? String(type)}`);
  const r = new Reader(raw, name);
  switch (type) {
    case MessageType.HELLO: {
      r.length(3, 3);
      const details = r.dict(2, 'Details', type);
      if (!isDict(details['roles'])) throw new WampProtocolError('HELLO.Details.roles must be a dictionary');
      return { type, realm: r.uri(1, 'Realm'), details };
    }
    case MessageType.WELCOME: {
      r.length(3, 3);
      const details = r.dict(2, 'Details', type);
      if (!isDict(details['roles'])) throw new WampProtocolError('WELCOME.Details.roles must be a dictionary');
      return { type, sessionId: r.id(1, 'Session'), details };
    }
    case MessageType.ABORT:
      r.length(3, 3);
      return { type, details: r.dict(1, 'Details', type), reason: r.uri(2, 'Reason') };
    case MessageType.CHALLENGE:
      r.length(3, 3);
      return { type, authMethod: r.string(1, 'AuthMethod'), extra: r.dict(2, 'Extra', type) };
    case MessageType.AUTHENTICATE:
      r.length(3, 3);
      return { type, signature: r.string(1, 'Signature'), extra: r.dict(2, 'Extra', type) };
    case MessageType.GOODBYE:
      r.length(3, 3);
      return { type, details: r.dict(1, 'Details', type), reason: r.uri(2, 'Reason') };
    case MessageType.ERROR: {
      r.length(5, 7);
      const requestType = raw[1] as unknown;
      if (typeof requestType !== 'number' || !ERROR_REQUEST_TYPES.has(requestType)) {
        throw new WampProtocolError(`ERROR.REQUEST.Type ${String(requestType)} is not a request type`);
      }
      const details = r.dict(3, 'Details', type);
      return r.payload<ErrorMessage>(5, details, { type, requestType, requestId: r.id(2, 'Request'), details, error: r.uri(4, 'Error') });
    }
    case MessageType.PUBLISH: {
      r.length(4, 6);
      const options = r.dict(2, 'Options', type);
      return r.payload<PublishMessage>(4, options, { type, requestId: r.id(1, 'Request'), options, topic: r.uri(3, 'Topic') });
    }
    case MessageType.PUBLISHED:
      r.length(3, 3);
      return { type, requestId: r.id(1, 'Request'), publicationId: r.id(2, 'Publication') };
    case MessageType.SUBSCRIBE:
      r.length(4, 4);
      return { type, requestId: r.id(1, 'Request'), options: r.dict(2, 'Options', type), topic: r.string(3, 'Topic') };
    case MessageType.SUBSCRIBED:
      r.length(3, 3);
      return { type, requestId: r.id(1, 'Request'), subscriptionId: r.id(2, 'Subscription') };
    case MessageType.UNSUBSCRIBE:
      r.length(3, 3);
      return { type, requestId: r.id(1, 'Request'), subscriptionId: r.id(2, 'Subscription') };
    case MessageType.UNSUBSCRIBED:
      r.length(2, 3);
      return raw.length === 3
        ? { type, requestId: r.id(1, 'Request'), details: r.dict(2, 'Details', type) }
        : { type, requestId: r.id(1, 'Request') };
    case MessageType.EVENT: {
      r.length(4, 6);
      const details = r.dict(3, 'Details', type);
      return r.payload<EventMessage>(4, details, {
        type, subscriptionId: r.id(1, 'Subscription'), publicationId: r.id(2, 'Publication'), details,
      });
    }
    case MessageType.EVENT_RECEIVED:
      r.length(2, 4);
      return r.payload<EventReceivedMessage>(2, {}, { type, publicationId: r.id(1, 'Publication') });
    case MessageType.CALL: {
      r.length(4, 6);
      const options = r.dict(2, 'Options', type);
      return r.payload<CallMessage>(4, options, { type, requestId: r.id(1, 'Request'), options, procedure: r.uri(3, 'Procedure') });
    }
    case MessageType.CANCEL:
      r.length(3, 3);
      return { type, requestId: r.id(1, 'Request'), options: r.dict(2, 'Options', type) };
    case MessageType.RESULT: {
      r.length(3, 5);
      const details = r.dict(2, 'Details', type);
      return r.payload<ResultMessage>(3, details, { type, requestId: r.id(1, 'Request'), details });
    }
    case MessageType.REGISTER:
      r.length(4, 4);
      return { type, requestId: r.id(1, 'Request'), options: r.dict(2, 'Options', type), procedure: r.string(3, 'Procedure') };
    case MessageType.REGISTERED:
      r.length(3, 3);
      return { type, requestId: r.id(1, 'Request'), registrationId: r.id(2, 'Registration') };
    case MessageType.UNREGISTER:
      r.length(3, 3);
      return { type, requestId: r.id(1, 'Request'), registrationId: r.id(2, 'Registration') };
    case MessageType.UNREGISTERED:
      r.length(2, 3);
      return raw.length === 3
        ? { type, requestId: r.id(1, 'Request'), details: r.dict(2, 'Details', type) }
        : { type, requestId: r.id(1, 'Request') };
    case MessageType.INVOCATION: {
      r.length(4, 6);
      const details = r.dict(3, 'Details', type);
      return r.payload<InvocationMessage>(4, details, {
        type, requestId: r.id(1, 'Request'), registrationId: r.id(2, 'Registration'), details,
      });
    }
    case MessageType.INTERRUPT:
      r.length(3, 3);
      return { type, requestId: r.id(1, 'Request'), options: r.dict(2, 'Options', type) };
    case MessageType.YIELD: {
      r.length(3, 5);
      const options = r.dict(2, 'Options', type);
      return r.payload<YieldMessage>(3, options, { type, requestId: r.id(1, 'Request'), options });
    }
    default:
      throw new WampProtocolError(`unknown WAMP message type ${String(type)}`);
  }
}

// Payload-carrying lists are built at their final length (no growing by push): one per head length.
function list2(m: Payload, a: unknown, b: unknown): unknown[] {
  if (m.payload !== undefined) return [a, b, m.payload];
  if (m.kwargs !== undefined) return [a, b, m.args ?? [], m.kwargs];
  return m.args !== undefined ? [a, b, m.args] : [a, b];
}

function list3(m: Payload, a: unknown, b: unknown, c: unknown): unknown[] {
  if (m.payload !== undefined) return [a, b, c, m.payload];
  if (m.kwargs !== undefined) return [a, b, c, m.args ?? [], m.kwargs];
  return m.args !== undefined ? [a, b, c, m.args] : [a, b, c];
}

function list4(m: Payload, a: unknown, b: unknown, c: unknown, d: unknown): unknown[] {
  if (m.payload !== undefined) return [a, b, c, d, m.payload];
  if (m.kwargs !== undefined) return [a, b, c, d, m.args ?? [], m.kwargs];
  return m.args !== undefined ? [a, b, c, d, m.args] : [a, b, c, d];
}

function list5(m: Payload, a: unknown, b: unknown, c: unknown, d: unknown, e: unknown): unknown[] {
  if (m.payload !== undefined) return [a, b, c, d, e, m.payload];
  if (m.kwargs !== undefined) return [a, b, c, d, e, m.args ?? [], m.kwargs];
  return m.args !== undefined ? [a, b, c, d, e, m.args] : [a, b, c, d, e];
}

/** Turn a typed message into the list that a serializer writes (the inverse of `decodeMessage`). */
export function encodeMessage(message: WampMessage): unknown[] {
  switch (message.type) {
    case MessageType.HELLO: return [message.type, message.realm, message.details];
    case MessageType.WELCOME: return [message.type, message.sessionId, message.details];
    case MessageType.ABORT: return [message.type, message.details, message.reason];
    case MessageType.CHALLENGE: return [message.type, message.authMethod, message.extra];
    case MessageType.AUTHENTICATE: return [message.type, message.signature, message.extra];
    case MessageType.GOODBYE: return [message.type, message.details, message.reason];
    case MessageType.ERROR:
      return list5(message, message.type, message.requestType, message.requestId, message.details, message.error);
    case MessageType.PUBLISH:
      return list4(message, message.type, message.requestId, message.options, message.topic);
    case MessageType.PUBLISHED: return [message.type, message.requestId, message.publicationId];
    case MessageType.SUBSCRIBE: return [message.type, message.requestId, message.options, message.topic];
    case MessageType.SUBSCRIBED: return [message.type, message.requestId, message.subscriptionId];
    case MessageType.UNSUBSCRIBE: return [message.type, message.requestId, message.subscriptionId];
    case MessageType.UNSUBSCRIBED:
      return message.details === undefined ? [message.type, message.requestId] : [message.type, message.requestId, message.details];
    case MessageType.EVENT:
      return list4(message, message.type, message.subscriptionId, message.publicationId, message.details);
    case MessageType.EVENT_RECEIVED: return list2(message, message.type, message.publicationId);
    case MessageType.CALL:
      return list4(message, message.type, message.requestId, message.options, message.procedure);
    case MessageType.CANCEL: return [message.type, message.requestId, message.options];
    case MessageType.RESULT: return list3(message, message.type, message.requestId, message.details);
    case MessageType.REGISTER: return [message.type, message.requestId, message.options, message.procedure];
    case MessageType.REGISTERED: return [message.type, message.requestId, message.registrationId];
    case MessageType.UNREGISTER: return [message.type, message.requestId, message.registrationId];
    case MessageType.UNREGISTERED:
      return message.details === undefined ? [message.type, message.requestId] : [message.type, message.requestId, message.details];
    case MessageType.INVOCATION:
      return list4(message, message.type, message.requestId, message.registrationId, message.details);
    case MessageType.INTERRUPT: return [message.type, message.requestId, message.options];
    case MessageType.YIELD: return list3(message, message.type, message.requestId, message.options);
  }
}
