import type { Transport } from '@rt/transport';

/** What a client hands the wire when it opens a channel to a room. */
export interface WireOpenOptions {
  /** The credential evaluated for this attempt, if any. */
  token?: string | undefined;
  /** Abort the attempt. */
  signal?: AbortSignal | undefined;
  /** Give up opening after this many milliseconds. */
  timeoutMs?: number | undefined;
}

/** A channel a server-side wire accepted, with what it knows about the peer. */
export interface IncomingChannel {
  /** The message channel to the client. */
  readonly channel: Transport;
  /** The room the client asked for. */
  readonly roomId: string;
  /** The client's credential, if it sent one. */
  readonly token: string | undefined;
  /** The peer's address, when the wire knows it. */
  readonly remoteAddress?: string | undefined;
  /** Wire-specific request details (the HTTP upgrade request for WebSocket). */
  readonly request?: unknown;
}

/** A listening server-side wire. */
export interface WireListener extends AsyncDisposable {
  /** The bound port, for network wires. */
  readonly port: number | undefined;
  /** Where clients reach this listener, when it has an address. */
  readonly url: string | undefined;
  /** Stop accepting and close the channels this wire accepted. */
  close(): Promise<void>;
}

/**
 * How clients and servers reach each other: a wire opens channels to rooms (client side)
 * and accepts them (server side). Implement this to carry rooms over another transport.
 */
export interface Wire {
  /** A short name for messages and logs (`websocket`, `memory`, ...). */
  readonly name: string;
  /** Client side: open a message channel to room `roomId`. */
  open(roomId: string, options?: WireOpenOptions): Promise<Transport>;
  /** Server side: accept channels and hand each to `onChannel`. */
  listen(onChannel: (incoming: IncomingChannel) => void): Promise<WireListener>;
}
