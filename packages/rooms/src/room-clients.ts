import { EMPTY_AWARENESS_MESSAGE } from './protocol.js';
import { CLOSE_TRY_AGAIN_LATER } from './close-codes.js';
import type { RoomConnection } from './room-connection.js';

/**
 * The clients connected to a room and the one way the room writes to them: a write
 * never throws, and a client whose unsent data piles up past a limit is closed (1013).
 */
export class RoomClients {
  /** The connected clients. */
  readonly connections = new Set<RoomConnection>();
  readonly #maxBufferedBytes: number;
  readonly #onSlowReader: (error: Error, connection: RoomConnection) => void;

  /** `onSlowReader` hears of each client closed for reading too slowly, before it is closed. */
  constructor(maxBufferedBytes: number, onSlowReader: (error: Error, connection: RoomConnection) => void) {
    this.#maxBufferedBytes = maxBufferedBytes;
    this.#onSlowReader = onSlowReader;
  }

  /** Queue `message` to `connection`; dropped silently when its channel is no longer open. */
  send(connection: RoomConnection, message: Uint8Array): void {
    const channel = connection.channel;
    if (channel.state !== 'open') return;
    try {
      channel.write(message);
    } catch {
      return;
    }
    connection.lastSentAt = Date.now();
    if (channel.bufferedAmount > this.#maxBufferedBytes) {
      this.#onSlowReader(new Error(`client ${connection.id} reads too slowly`), connection);
      void channel.close(CLOSE_TRY_AGAIN_LATER, 'send buffer overflow: the client reads too slowly');
    }
  }

  /** Send `message` to every client except `skip`. */
  broadcast(message: Uint8Array, skip?: unknown): void {
    for (const connection of this.connections) {
      if (connection !== skip) this.send(connection, message);
    }
  }

  /** The awareness client ids the connected clients own. */
  awarenessClientIds(): number[] {
    return [...this.connections].flatMap((connection) => [...connection.awarenessClients]);
  }

  /** Send proof of life (an empty awareness update) to each client not written to since `quietSince`. */
  keepalive(quietSince: number): void {
    for (const connection of this.connections) {
      if (connection.lastSentAt <= quietSince) this.send(connection, EMPTY_AWARENESS_MESSAGE);
    }
  }
}
