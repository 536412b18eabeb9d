/** One message as carried by a transport: text or binary. */
export type TransportMessage = string | Uint8Array;

/** How a transport ended. */
export interface CloseInfo {
  /** WebSocket-style close code (1000 normal, 1006 abnormal, 1009 too big, ...). */
  readonly code: number;
  /** Human-readable reason, possibly empty. */
  readonly reason: string;
  /** True when this side or the peer closed on purpose; false when the connection was lost. */
  readonly wasClean: boolean;
  /** The error that ended the transport, when it ended abnormally. */
  readonly error?: Error;
}

/** Lifecycle of a transport. */
export type TransportState = 'open' | 'closing' | 'closed';

/** Options for one wait on a transport. */
export interface WaitOptions {
  /** Abort the wait (the transport stays open). */
  signal?: AbortSignal;
  /** Give up after this many milliseconds with a `TimeoutError`. */
  timeoutMs?: number;
}

/**
 * A message-oriented, bidirectional connection. Incoming messages are read by async
 * iteration (or `receive()`); iteration ends when the transport closes.
 *
 * Writes never split a message: `write()` queues one frame at once and reports whether
 * the caller should wait; `send()` waits for the buffer to drain below its high water mark.
 */
export interface Transport extends AsyncIterable<TransportMessage>, AsyncDisposable {
  /** Current lifecycle state. */
  readonly state: TransportState;
  /** Negotiated subprotocol (WebSocket) or the empty string. */
  readonly protocol: string;
  /** The peer's address, when the transport knows it. */
  readonly remoteAddress: string | undefined;
  /** Bytes queued for writing and not yet handed to the operating system. */
  readonly bufferedAmount: number;
  /** Resolves once, when the transport has closed for any reason. Never rejects. */
  readonly closed: Promise<CloseInfo>;

  /**
   * Queue one message. Returns `false` when the write buffer is above its high water mark
   * (the caller should await `drained()`); throws `ConnectionError` when closed.
   */
  write(message: TransportMessage): boolean;
  /** Queue one message and wait until the write buffer is below its high water mark. */
  send(message: TransportMessage, options?: WaitOptions): Promise<void>;
  /** Wait until the write buffer is below its high water mark. */
  drained(options?: WaitOptions): Promise<void>;
  /**
   * Take the next buffered message without waiting; `undefined` when none is buffered. Read
   * loops can drain a burst synchronously and only await `receive()` when this comes up empty.
   */
  tryReceive(): TransportMessage | undefined;
  /**
   * Push mode: hand every incoming message to `handler` synchronously, as it arrives (messages
   * already queued go first), instead of queueing it for `receive()` / iteration. Saves a promise
   * per message on hot paths; the handler must not block. A handler that throws aborts the
   * transport with that error. Pass `undefined` to return to pull mode.
   */
  onMessage(handler: ((message: TransportMessage) => void) | undefined): void;
  /** Wait for the next message; resolves `undefined` once the transport is closed and drained. */
  receive(options?: WaitOptions): Promise<TransportMessage | undefined>;
  /** Close gracefully; resolves with how the transport ended. */
  close(code?: number, reason?: string): Promise<CloseInfo>;
  /** Drop the connection at once, without a closing handshake. */
  abort(error?: Error): void;
}

/** Normal closure. */
export const CLOSE_NORMAL = 1000;
/** The endpoint is going away (server shutdown). */
export const CLOSE_GOING_AWAY = 1001;
/** The peer broke the protocol. */
export const CLOSE_PROTOCOL_ERROR = 1002;
/** A message's data was invalid for its type (e.g. text that is not UTF-8). */
export const CLOSE_INVALID_PAYLOAD = 1007;
/** The connection was lost without a close frame. */
export const CLOSE_ABNORMAL = 1006;
/** A message was bigger than the configured limit. */
export const CLOSE_MESSAGE_TOO_BIG = 1009;
/** The server hit an unexpected condition. */
export const CLOSE_INTERNAL_ERROR = 1011;
