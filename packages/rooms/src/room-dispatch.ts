import { CLOSE_INTERNAL_ERROR, CLOSE_MESSAGE_TOO_BIG, CLOSE_PROTOCOL_ERROR, ProtocolError, type TransportMessage } from '@rt/transport';
import * as Y from 'yjs';
import type { AwarenessRelay } from './awareness-relay.js';
import { ConnectionFault } from './connection-fault.js';
import { decodeMessage, encodeMessage, encodeSyncStep1, encodeSyncStep2, type RoomMessage } from './protocol.js';
import type { RoomClients } from './room-clients.js';
import type { RoomConnection } from './room-connection.js';
import type { RoomDocument } from './room-document.js';

/** What handling client messages needs from the room. */
export interface RoomDispatchContext {
  readonly document: RoomDocument;
  readonly clients: RoomClients;
  readonly presence: AwarenessRelay;
  /** Largest message accepted, in bytes. */
  readonly maxMessageSize: number;
  /** The room's verdict on a message (`Room.filter`). */
  filter(message: RoomMessage, connection: RoomConnection): boolean | Promise<boolean>;
  /** Resolve once every update received so far is durable. */
  flush(): Promise<void>;
  /** Count and report a message refused from `connection`. */
  refuse(connection: RoomConnection, message: RoomMessage): void;
}

/**
 * How a room answers its clients: the greeting of a new client, and one dispatch switch
 * over the y-protocols messages a client sends. Handling throws `ConnectionFault` or
 * `ProtocolError` when the message ends its connection.
 */
export class RoomDispatch {
  readonly #context: RoomDispatchContext;

  constructor(context: RoomDispatchContext) {
    this.#context = context;
  }

  /** Open the exchange with a new client: sync step 1, then the known awareness states. */
  greet(connection: RoomConnection): void {
    this.#context.clients.send(connection, this.#syncStep1());
    this.#context.presence.greet(connection);
  }

  /** Handle one frame from `connection`. */
  async handle(connection: RoomConnection, frame: TransportMessage): Promise<void> {
    const context = this.#context;
    if (typeof frame === 'string') {
      throw new ConnectionFault(CLOSE_PROTOCOL_ERROR, 'text frames are not part of the y-protocols wire format');
    }
    if (frame.length > context.maxMessageSize) {
      throw new ConnectionFault(
        CLOSE_MESSAGE_TOO_BIG,
        `message of ${frame.length} bytes exceeds the limit of ${context.maxMessageSize} bytes`,
      );
    }
    const message = decodeMessage(frame);
    const verdict = context.filter(message, connection);
    if (!(typeof verdict === 'boolean' ? verdict : await verdict)) return;
    switch (message.type) {
      case 'sync-step1': {
        const reply = this.#stateFor(message.stateVector);
        // The reply acknowledges everything this client sent before: only once it is durable.
        await this.#flushForAck();
        context.clients.send(connection, reply);
        return;
      }
      case 'sync-step2':
      case 'update':
        if (connection.readOnly) {
          context.refuse(connection, message);
          return;
        }
        this.#applyUpdate(message.update, connection);
        return;
      case 'awareness':
        context.presence.applyFrom(connection, message.update);
        return;
      case 'query-awareness':
        context.presence.answerQuery(connection);
        return;
      case 'permission-denied':
        throw new ProtocolError('clients do not send auth messages');
    }
  }

  /**
   * Sync step 1 for a new client. A plain method on purpose: a document held in a register
   * of a suspended async function would stay reachable after the room hibernates.
   */
  #syncStep1(): Uint8Array {
    const document = this.#context.document;
    const doc = document.live;
    return doc ? encodeSyncStep1(doc) : encodeMessage({ type: 'sync-step1', stateVector: document.stateVector() });
  }

  /** Sync step 2 for a client at `stateVector` (a plain method for the same reason). */
  #stateFor(stateVector: Uint8Array): Uint8Array {
    const document = this.#context.document;
    try {
      const doc = document.live;
      return doc ? encodeSyncStep2(doc, stateVector) : encodeMessage({ type: 'sync-step2', update: document.missing(stateVector) });
    } catch (error) {
      throw new ProtocolError('sync step 1 carries a malformed state vector', { cause: error });
    }
  }

  async #flushForAck(): Promise<void> {
    try {
      await this.#context.flush();
    } catch (error) {
      throw new ConnectionFault(CLOSE_INTERNAL_ERROR, 'storage failure: the update could not be saved', { cause: error });
    }
  }

  #applyUpdate(update: Uint8Array, connection: RoomConnection): void {
    // A handshake from a client with nothing new carries an empty update, or only the
    // deletions the document already has: no need to wake it.
    if (update.length === 2 && update[0] === 0 && update[1] === 0) return;
    const document = this.#context.document;
    if (document.hibernatingWith(update)) return;
    try {
      Y.applyUpdate(document.wake(), update, connection);
    } catch (error) {
      throw new ProtocolError('malformed Yjs update', { cause: error });
    }
  }
}
