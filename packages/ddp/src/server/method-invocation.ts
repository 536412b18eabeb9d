import type { PendingWrite, WriteFence } from './write-fence.js';
import type { DDPConnection } from './types.js';

/** What a method invocation needs from its session. */
export interface InvocationHost {
  readonly connection: DDPConnection;
  readonly userId: string | null;
  readonly signal: AbortSignal;
  /** Change the connection's user at once; resolves once its publications have re-run. */
  setUserId(userId: string | null): Promise<void>;
}

/**
 * `this` inside a method (Meteor's `MethodInvocation`): who is calling, how to change the
 * logged-in user, how to let the connection move on, and how to declare writes so the
 * client hears `updated` only once they are visible.
 */
export class MethodInvocation {
  /** The method's name. */
  readonly name: string;
  /** The client's `randomSeed`, when it sent one. */
  readonly randomSeed: string | undefined;
  /** Always `false` on the server (Meteor's stubs set it on the client). */
  readonly isSimulation = false;
  readonly #host: InvocationHost;
  readonly #fence: WriteFence;
  #unblock: (() => void) | undefined;
  #userIdChange: Promise<void> = Promise.resolve();

  /** Created by the session for each `method` message. */
  constructor(host: InvocationHost, name: string, randomSeed: string | undefined, fence: WriteFence, unblock: () => void) {
    this.#host = host;
    this.name = name;
    this.randomSeed = randomSeed;
    this.#fence = fence;
    this.#unblock = unblock;
  }

  /** The logged-in user of this connection, or `null`. */
  get userId(): string | null {
    return this.#host.userId;
  }

  /** The client connection. */
  get connection(): DDPConnection {
    return this.#host.connection;
  }

  /** Aborted when the connection closes. */
  get signal(): AbortSignal {
    return this.#host.signal;
  }

  /**
   * Log the connection in as `userId` (or out with `null`). Every subscription re-runs
   * with the new user; the client only hears about documents that differ. The method's
   * result is sent after the re-run.
   */
  setUserId(userId: string | null): void {
    if (this.#unblock === undefined) throw new Error('setUserId cannot be called after unblock()');
    const rerun = this.#host.setUserId(userId);
    this.#userIdChange = this.#userIdChange.then(() => rerun);
  }

  /** Let the connection run its next message while this method is still working. */
  unblock(): void {
    const unblock = this.#unblock;
    this.#unblock = undefined;
    unblock?.();
  }

  /**
   * Declare a write whose effect publications will pick up later (a database change feed,
   * say). The client's `updated` for this call waits until every declared write is
   * `committed()`. Without declared writes, `updated` follows the result at once.
   */
  beginWrite(): PendingWrite {
    return this.#fence.beginWrite();
  }

  /** Resolves once pending `setUserId` changes have been applied. */
  settled(): Promise<void> {
    return this.#userIdChange;
  }
}
