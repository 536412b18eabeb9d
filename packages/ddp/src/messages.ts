import type { EJSON, EJSONValue } from './ejson.js';
import type { DDPErrorObject } from './errors.js';

/** DDP message types (`msg` field values), in the order DDP.md introduces them. */
export const MessageType = {
  CONNECT: 'connect',
  CONNECTED: 'connected',
  FAILED: 'failed',
  PING: 'ping',
  PONG: 'pong',
  SUB: 'sub',
  UNSUB: 'unsub',
  NOSUB: 'nosub',
  ADDED: 'added',
  CHANGED: 'changed',
  REMOVED: 'removed',
  READY: 'ready',
  ADDED_BEFORE: 'addedBefore',
  MOVED_BEFORE: 'movedBefore',
  METHOD: 'method',
  RESULT: 'result',
  UPDATED: 'updated',
  ERROR: 'error',
} as const;

/** The fields of a document, as carried by `added` and `changed`. */
export type Fields = Record<string, EJSONValue>;

/** Client → server: open a session. */
export interface ConnectMessage {
  msg: 'connect';
  /** The proposed protocol version. */
  version: string;
  /** Versions the client speaks, most preferred first. */
  support: string[];
  /** The previous session, when reconnecting. */
  session?: string;
}
/** Server → client: the session is open. */
export interface ConnectedMessage {
  msg: 'connected';
  session: string;
}
/** Server → client: the proposed version is refused; try `version`. */
export interface FailedMessage {
  msg: 'failed';
  version: string;
}
/** Either direction: are you there? */
export interface PingMessage {
  msg: 'ping';
  id?: string;
}
/** Either direction: the answer to a `ping`, echoing its `id`. */
export interface PongMessage {
  msg: 'pong';
  id?: string;
}
/** Client → server: subscribe to a publication. */
export interface SubMessage {
  msg: 'sub';
  id: string;
  name: string;
  params: EJSONValue[];
}
/** Client → server: stop a subscription. */
export interface UnsubMessage {
  msg: 'unsub';
  id: string;
}
/** Server → client: a subscription ended (or never started), possibly with an error. */
export interface NosubMessage {
  msg: 'nosub';
  id: string;
  error?: DDPErrorObject;
}
/** Server → client: a document joined the client's view. */
export interface AddedMessage {
  msg: 'added';
  collection: string;
  id: string;
  fields?: Fields;
}
/** Server → client: fields of a document changed (`fields`) or went away (`cleared`). */
export interface ChangedMessage {
  msg: 'changed';
  collection: string;
  id: string;
  fields?: Fields;
  cleared?: string[];
}
/** Server → client: a document left the client's view. */
export interface RemovedMessage {
  msg: 'removed';
  collection: string;
  id: string;
}
/** Server → client: these subscriptions have sent their initial data. */
export interface ReadyMessage {
  msg: 'ready';
  subs: string[];
}
/** Server → client (ordered collections): a document joined before `before` (`null`: at the end). */
export interface AddedBeforeMessage {
  msg: 'addedBefore';
  collection: string;
  id: string;
  fields?: Fields;
  before: string | null;
}
/** Server → client (ordered collections): a document moved before `before`. */
export interface MovedBeforeMessage {
  msg: 'movedBefore';
  collection: string;
  id: string;
  before: string | null;
}
/** Client → server: call a method. */
export interface MethodMessage {
  msg: 'method';
  id: string;
  method: string;
  params: EJSONValue[];
  randomSeed?: string;
}
/** Server → client: a method's outcome. */
export interface ResultMessage {
  msg: 'result';
  id: string;
  error?: DDPErrorObject;
  result?: EJSONValue;
}
/** Server → client: the writes of these methods are reflected in data messages. */
export interface UpdatedMessage {
  msg: 'updated';
  methods: string[];
}
/** Server → client: a message from the client was refused. */
export interface ErrorMessage {
  msg: 'error';
  reason: string;
  offendingMessage?: unknown;
}

/** A message a client sends. */
export type ClientMessage = ConnectMessage | PingMessage | PongMessage | SubMessage | UnsubMessage | MethodMessage;
/** A message a server sends. */
export type ServerMessage =
  | ConnectedMessage
  | FailedMessage
  | PingMessage
  | PongMessage
  | NosubMessage
  | AddedMessage
  | ChangedMessage
  | RemovedMessage
  | ReadyMessage
  | AddedBeforeMessage
  | MovedBeforeMessage
  | ResultMessage
  | UpdatedMessage
  | ErrorMessage;
/** Any DDP message. */
export type DDPMessage = ClientMessage | ServerMessage;
