import { ConnectionError, TimeoutError, messageToText, type CloseInfo, type Transport } from '@rt/transport';
import { HeartbeatPulse } from '../heartbeat-pulse.js';
import type { EJSON } from '../ejson.js';
import { ServerProtocolError, VersionMismatchError } from '../errors.js';
import { decodeServerMessage, encodeClientMessage } from '../message-codec.js';
import type { ClientMessage, ServerMessage } from '../messages.js';
import { hasHeartbeats } from '../versions.js';

/** Server messages the client handles above the connection (data, subscriptions, methods). */
export type SessionMessage = Exclude<ServerMessage, { msg: 'connected' | 'failed' | 'ping' | 'pong' | 'error' }>;

/** How one connection ended. */
export type SessionOutcome =
  /** The DDP session was open and then the connection ended. */
  | { kind: 'lost'; info: CloseInfo; error: Error }
  /** No DDP session was opened (socket error, refused, handshake timeout). */
  | { kind: 'unreachable'; error: Error }
  /** The server wants another version this client speaks: reconnect with it at once. */
  | { kind: 'retry-version'; version: string }
  /** The server wants a version this client does not speak. */
  | { kind: 'version-mismatch'; error: VersionMismatchError };

/** Settings for one connection. */
export interface ConnectionSessionOptions {
  ejson: EJSON;
  version: string;
  support: readonly string[];
  previousSession: string | undefined;
  handshakeTimeoutMs: number;
  heartbeat: { intervalMs: number; timeoutMs: number } | undefined;
  onConnected(sessionId: string, version: string): void;
  onMessage(message: SessionMessage): void;
  onError(error: Error): void;
}

type State = 'handshaking' | 'open' | 'closed';

/**
 * One transport's worth of DDP, client side: sends `connect`, waits for `connected` (or
 * `failed`), answers pings, watches the heartbeat, decodes messages and hands the rest to
 * the client. A malformed message is reported and skipped; it never stops the loop.
 */
export class ConnectionSession {
  readonly #transport: Transport;
  readonly #options: ConnectionSessionOptions;
  #state: State = 'handshaking';
  #heartbeat: HeartbeatPulse | undefined;
  #outcome: SessionOutcome | undefined;

  constructor(transport: Transport, options: ConnectionSessionOptions) {
    this.#transport = transport;
    this.#options = options;
  }

  /** Send a message once the session is open; `false` before that or after it ended. */
  send(message: ClientMessage): boolean {
    if (this.#state !== 'open' || this.#transport.state !== 'open') return false;
    this.#transport.write(encodeClientMessage(message, this.#options.ejson));
    return true;
  }

  /** Send an already encoded client message once the session is open; `false` otherwise. */
  sendEncoded(text: string): boolean {
    if (this.#state !== 'open' || this.#transport.state !== 'open') return false;
    this.#transport.write(text);
    return true;
  }

  /** Close the connection. */
  async close(): Promise<void> {
    await this.#transport.close();
  }

  /** Run the connection until it ends. */
  async run(): Promise<SessionOutcome> {
    const { version, support, previousSession, handshakeTimeoutMs } = this.#options;
    const connect: ClientMessage =
      previousSession === undefined
        ? { msg: 'connect', version, support: [...support] }
        : { msg: 'connect', version, support: [...support], session: previousSession };
    const timer = setTimeout(() => {
      if (this.#state !== 'handshaking') return;
      this.#outcome = {
        kind: 'unreachable',
        error: new TimeoutError(`no DDP handshake within ${handshakeTimeoutMs} ms`, handshakeTimeoutMs),
      };
      this.#transport.abort();
    }, handshakeTimeoutMs);
    // Push mode: each message is handled as it arrives, with no promise per message. A handler
    // that throws aborts the transport, which ends the session like any other loss.
    this.#transport.onMessage((raw) => this.#receive(raw));
    try {
      this.#transport.write(encodeClientMessage(connect, this.#options.ejson));
    } catch (error) {
      this.#transport.abort(error as Error);
    }
    const info = await this.#transport.closed;
    clearTimeout(timer);
    this.#heartbeat?.stop();
    const wasOpen = this.#state === 'open';
    this.#state = 'closed';
    if (this.#outcome) return this.#outcome;
    const error = info.error ?? new ConnectionError(`connection closed (${info.code}${info.reason ? ` ${info.reason}` : ''})`, { closeCode: info.code, closeReason: info.reason });
    return wasOpen ? { kind: 'lost', info, error } : { kind: 'unreachable', error };
  }

  #receive(raw: string | Uint8Array): void {
    if (this.#state === 'closed') return;
    this.#heartbeat?.traffic();
    let message: ServerMessage | undefined;
    try {
      message = decodeServerMessage(messageToText(raw), this.#options.ejson);
    } catch (error) {
      this.#options.onError(error as Error);
      return;
    }
    if (message === undefined) return;
    switch (message.msg) {
      case 'connected':
        this.#opened(message.session);
        return;
      case 'failed':
        this.#refused(message.version);
        return;
      case 'ping':
        if (this.#state === 'open') this.send(message.id === undefined ? { msg: 'pong' } : { msg: 'pong', id: message.id });
        return;
      case 'pong':
        return;
      case 'error':
        this.#options.onError(new ServerProtocolError(message.reason, message.offendingMessage));
        return;
      default:
        if (this.#state !== 'open') {
          this.#options.onError(new ServerProtocolError(`'${message.msg}' before 'connected'`, undefined));
          return;
        }
        this.#options.onMessage(message);
    }
  }

  #opened(sessionId: string): void {
    if (this.#state !== 'handshaking') {
      this.#options.onError(new ServerProtocolError("a second 'connected'", undefined));
      return;
    }
    this.#state = 'open';
    const { heartbeat, version } = this.#options;
    if (heartbeat && hasHeartbeats(version)) {
      this.#heartbeat = new HeartbeatPulse({
        ...heartbeat,
        sendPing: () => this.send({ msg: 'ping' }),
        onTimeout: () => this.#transport.abort(new TimeoutError('the server stopped answering pings', heartbeat.timeoutMs)),
      });
      this.#heartbeat.start();
    }
    this.#options.onConnected(sessionId, version);
  }

  #refused(suggested: string): void {
    if (this.#state !== 'handshaking') return;
    this.#outcome = this.#options.support.includes(suggested)
      ? { kind: 'retry-version', version: suggested }
      : { kind: 'version-mismatch', error: new VersionMismatchError(suggested, this.#options.support) };
    void this.#transport.close();
  }
}
