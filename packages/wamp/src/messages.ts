import { MessageType } from './message-types.js';

/** A WAMP dictionary (Options, Details, kwargs). */
export type Dict = Record<string, unknown>;

/** Application payload carried by calls, results, events and errors. */
export interface Payload {
  /** Positional arguments; `undefined` when the message carried none. */
  args?: unknown[] | undefined;
  /** Keyword arguments; `undefined` when the message carried none. */
  kwargs?: Dict | undefined;
  /** Transparent payload (payload passthru mode: `enc_algo` set), instead of args/kwargs. */
  payload?: Uint8Array | string | undefined;
}

/** HELLO: a client asks to join `realm`. */
export interface HelloMessage { type: typeof MessageType.HELLO; realm: string; details: Dict }
/** WELCOME: the router accepted the session. */
export interface WelcomeMessage { type: typeof MessageType.WELCOME; sessionId: number; details: Dict }
/** ABORT: session refused or ended abruptly. */
export interface AbortMessage { type: typeof MessageType.ABORT; details: Dict; reason: string }
/** CHALLENGE: the router asks the client to authenticate. */
export interface ChallengeMessage { type: typeof MessageType.CHALLENGE; authMethod: string; extra: Dict }
/** AUTHENTICATE: the client's answer to a CHALLENGE. */
export interface AuthenticateMessage { type: typeof MessageType.AUTHENTICATE; signature: string; extra: Dict }
/** GOODBYE: closing the session (and its reply). */
export interface GoodbyeMessage { type: typeof MessageType.GOODBYE; details: Dict; reason: string }
/** ERROR: a request failed. */
export interface ErrorMessage extends Payload {
  type: typeof MessageType.ERROR; requestType: number; requestId: number; details: Dict; error: string;
}
/** PUBLISH: publish an event. */
export interface PublishMessage extends Payload { type: typeof MessageType.PUBLISH; requestId: number; options: Dict; topic: string }
/** PUBLISHED: acknowledgement of a PUBLISH. */
export interface PublishedMessage { type: typeof MessageType.PUBLISHED; requestId: number; publicationId: number }
/** SUBSCRIBE: subscribe to a topic. */
export interface SubscribeMessage { type: typeof MessageType.SUBSCRIBE; requestId: number; options: Dict; topic: string }
/** SUBSCRIBED: the subscription was made. */
export interface SubscribedMessage { type: typeof MessageType.SUBSCRIBED; requestId: number; subscriptionId: number }
/** UNSUBSCRIBE: drop a subscription. */
export interface UnsubscribeMessage { type: typeof MessageType.UNSUBSCRIBE; requestId: number; subscriptionId: number }
/** UNSUBSCRIBED: the subscription was dropped. */
export interface UnsubscribedMessage { type: typeof MessageType.UNSUBSCRIBED; requestId: number; details?: Dict | undefined }
/** EVENT: an event delivered to a subscriber. */
export interface EventMessage extends Payload {
  type: typeof MessageType.EVENT; subscriptionId: number; publicationId: number; details: Dict;
}
/** EVENT_RECEIVED: acknowledged event delivery (experimental). */
export interface EventReceivedMessage extends Payload { type: typeof MessageType.EVENT_RECEIVED; publicationId: number }
/** CALL: call a procedure. */
export interface CallMessage extends Payload { type: typeof MessageType.CALL; requestId: number; options: Dict; procedure: string }
/** CANCEL: cancel a pending call. */
export interface CancelMessage { type: typeof MessageType.CANCEL; requestId: number; options: Dict }
/** RESULT: a call's (possibly progressive) result. */
export interface ResultMessage extends Payload { type: typeof MessageType.RESULT; requestId: number; details: Dict }
/** REGISTER: register a procedure. */
export interface RegisterMessage { type: typeof MessageType.REGISTER; requestId: number; options: Dict; procedure: string }
/** REGISTERED: the registration was made. */
export interface RegisteredMessage { type: typeof MessageType.REGISTERED; requestId: number; registrationId: number }
/** UNREGISTER: drop a registration. */
export interface UnregisterMessage { type: typeof MessageType.UNREGISTER; requestId: number; registrationId: number }
/** UNREGISTERED: the registration was dropped (or revoked by the router). */
export interface UnregisteredMessage { type: typeof MessageType.UNREGISTERED; requestId: number; details?: Dict | undefined }
/** INVOCATION: the router asks a callee to run a procedure. */
export interface InvocationMessage extends Payload {
  type: typeof MessageType.INVOCATION; requestId: number; registrationId: number; details: Dict;
}
/** INTERRUPT: the router asks a callee to stop an invocation. */
export interface InterruptMessage { type: typeof MessageType.INTERRUPT; requestId: number; options: Dict }
/** YIELD: a callee's (possibly progressive) result. */
export interface YieldMessage extends Payload { type: typeof MessageType.YIELD; requestId: number; options: Dict }

/** Any WAMP message. */
export type WampMessage =
  | HelloMessage | WelcomeMessage | AbortMessage | ChallengeMessage | AuthenticateMessage | GoodbyeMessage
  | ErrorMessage | PublishMessage | PublishedMessage | SubscribeMessage | SubscribedMessage | UnsubscribeMessage
  | UnsubscribedMessage | EventMessage | EventReceivedMessage | CallMessage | CancelMessage | ResultMessage
  | RegisterMessage | RegisteredMessage | UnregisterMessage | UnregisteredMessage | InvocationMessage
  | InterruptMessage | YieldMessage;
