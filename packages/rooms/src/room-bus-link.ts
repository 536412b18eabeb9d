import { ProtocolError } from '@rt/transport';
import * as awarenessProtocol from 'y-protocols/awareness';
import * as Y from 'yjs';
import type { BusMessage, BusSubscription, RoomBus } from './bus.js';
import { decodeAwarenessUpdate } from './protocol.js';
import type { RoomDocument } from './room-document.js';
import { messageOf } from './util.js';

/** Transaction origin of updates that came over the bus (they are not published again). */
const BUS_ORIGIN = Symbol('rooms:bus');

/** What a bus link needs from its room. */
export interface RoomBusLinkContext {
  /** The room's name: its channel on the bus. */
  readonly roomId: string;
  readonly document: RoomDocument;
  readonly awareness: awarenessProtocol.Awareness;
  /** Awareness client ids owned by this node's connections. */
  localClientIds(): number[];
  /** True once the room is closing: the link then ignores the bus. */
  closing(): boolean;
  /** Report a bad bus message or a failure to leave the bus. */
  onError(error: Error): void;
}

/**
 * One room's membership in a `RoomBus`: publishes local document and awareness updates,
 * applies the other nodes' updates, and exchanges state vectors on joining (and after the
 * bus lost messages) so every node ends up with the same document.
 */
export class RoomBusLink {
  readonly #bus: RoomBus;
  readonly #context: RoomBusLinkContext;
  #subscription: BusSubscription | undefined;

  constructor(bus: RoomBus, context: RoomBusLinkContext) {
    this.#bus = bus;
    this.#context = context;
  }

  /** Subscribe to the room's channel and ask the other nodes for what this one lacks. */
  async join(): Promise<void> {
    this.#subscription = await this.#bus.subscribe(this.#context.roomId, this.#onMessage, this.#announce);
    this.#announce();
  }

  /** Publish a document update, unless it came over the bus. */
  publishUpdate(update: Uint8Array, origin: unknown): void {
    if (origin !== BUS_ORIGIN) this.#subscription?.publish({ kind: 'update', update });
  }

  /** Publish an awareness update, unless it came over the bus. */
  publishAwareness(update: Uint8Array, origin: unknown): void {
    if (origin !== BUS_ORIGIN) this.#subscription?.publish({ kind: 'awareness', update });
  }

  /** Leave the room's channel; a failure is reported, not thrown. */
  async leave(): Promise<void> {
    try {
      await this.#subscription?.unsubscribe();
    } catch (error) {
      this.#context.onError(new Error(`room ${this.#context.roomId}: leaving the bus failed: ${messageOf(error)}`, { cause: error }));
    }
  }

  /** Tell the other nodes our state vector; they answer with what we lack and theirs. */
  readonly #announce = (): void => {
    if (this.#context.closing()) return;
    this.#subscription?.publish({ kind: 'state-vector', stateVector: this.#context.document.stateVector(), join: true });
  };

  readonly #onMessage = (message: BusMessage): void => {
    const context = this.#context;
    if (context.closing()) return;
    try {
      switch (message.kind) {
        case 'update':
          Y.applyUpdate(context.document.wake(), message.update, BUS_ORIGIN);
          return;
        case 'awareness':
          decodeAwarenessUpdate(message.update);
          awarenessProtocol.applyAwarenessUpdate(context.awareness, message.update, BUS_ORIGIN);
          return;
        case 'state-vector':
          this.#answerStateVector(message.stateVector, message.join);
          return;
      }
    } catch (error) {
      context.onError(new ProtocolError(`room ${context.roomId}: bad bus message: ${messageOf(error)}`, { cause: error }));
    }
  };

  #answerStateVector(stateVector: Uint8Array, join: boolean): void {
    const subscription = this.#subscription;
    if (!subscription) return;
    const document = this.#context.document;
    const missing = document.missing(stateVector);
    // An update of two bytes holds no structs and no deletions.
    if (missing.length > 2) subscription.publish({ kind: 'update', update: missing });
    if (!join) return;
    subscription.publish({ kind: 'state-vector', stateVector: document.stateVector(), join: false });
    const local = this.#context.localClientIds();
    if (local.length > 0) {
      subscription.publish({ kind: 'awareness', update: awarenessProtocol.encodeAwarenessUpdate(this.#context.awareness, local) });
    }
  }
}
