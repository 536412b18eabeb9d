/** WAMP v2 message type codes (the first element of every message). */
export const MessageType = {
  HELLO: 1,
  WELCOME: 2,
  ABORT: 3,
  CHALLENGE: 4,
  AUTHENTICATE: 5,
  GOODBYE: 6,
  ERROR: 8,
  PUBLISH: 16,
  PUBLISHED: 17,
  SUBSCRIBE: 32,
  SUBSCRIBED: 33,
  UNSUBSCRIBE: 34,
  UNSUBSCRIBED: 35,
  EVENT: 36,
  CALL: 48,
  CANCEL: 49,
  RESULT: 50,
  REGISTER: 64,
  REGISTERED: 65,
  UNREGISTER: 66,
  UNREGISTERED: 67,
  INVOCATION: 68,
  INTERRUPT: 69,
  YIELD: 70,
  EVENT_RECEIVED: 337,
} as const;

/** One of the WAMP message type codes. */
export type MessageTypeCode = (typeof MessageType)[keyof typeof MessageType];

const names = new Map<number, string>(Object.entries(MessageType).map(([name, code]) => [code, name]));

/** The name of a message type code (`CALL` for 48), or `undefined` for an unknown code. */
export function messageTypeName(code: number): string | undefined {
  return names.get(code);
}
