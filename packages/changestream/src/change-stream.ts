import { AbortError, ClosedError, ConnectionError, Emitter, TimeoutError, delay, waitFor } from '@rt/transport';
import type { ClientConnection } from './connection.js';
import { ChangeStreamError, isResumableError } from './errors.js';
import { ErrorCode } from './error-codes.js';
import type { OkReply } from './protocol.js';
import type { ChangeStreamDocument, ChangeStreamStageOptions, Document, ResumeToken, Timestamp, WatchOptions } from './types.js';

/** What a change stream needs from its client. */
export interface StreamHost {
  /** A usable connection, waiting (up to server selection timeout) for one when needed. */
  acquire(signal: AbortSignal): Promise<ClientConnection>;
  /** Time allowed for a reply, on top of a getMore's `maxAwaitTimeMS`. */
  readonly socketTimeoutMS: number;
  /** How long to keep retrying a cursor open that fails on the network. */
  readonly serverSelectionTimeoutMS: number;
  /** Whether to ask for the next batch while the current one is being consumed. */
  readonly pipelining: boolean;
  /** Called once when a stream closes, so the client stops tracking it. */
  release(stream: ChangeStream<unknown>): void;
}

/** Events of a change stream. */
export type ChangeStreamEvents = {
  /** The cached resume token changed (after an event was returned, or a batch advanced it). */
  resumeTokenChanged: [token: ResumeToken];
  /** The stream resumed after a resumable error; `error` is what interrupted it. */
  resumed: [error: Error];
};

/** Where a cursor starts: the three mutually exclusive start options. */
type StartOptions = Pick<ChangeStreamStageOptions, 'resumeAfter' | 'startAfter' | 'startAtOperationTime'>;

interface BufferedChange {
  readonly change: Document;
  /** The batch's post-batch resume token, on the last change of a batch. */
  readonly batchToken: ResumeToken | undefined;
}

/** What a stream watches: everything (`{}`), a database or a collection. */
export interface StreamTarget {
  readonly db?: string;
  readonly coll?: string;
}

const DEFAULT_MAX_AWAIT_MS = 1000;

/**
 * A change stream (Motor's `AsyncIOMotorChangeStream`): iterate it, or call `next()` /
 * `tryNext()`. It caches a resume token as the Change Streams specification says and resumes
 * once per resumable error (connection loss, cursor not found, errors labelled
 * `ResumableChangeStreamError`) with `startAfter`, `resumeAfter` or `startAtOperationTime`.
 * It never resumes after lost history (286) or an `invalidate`.
 */
export class ChangeStream<TChange = ChangeStreamDocument> implements AsyncIterable<TChange>, AsyncDisposable {
  readonly #host: StreamHost;
  readonly #target: StreamTarget;
  readonly #pipeline: readonly Document[];
  readonly #stageOptions: ChangeStreamStageOptions;
  readonly #maxAwaitTimeMS: number;
  readonly #batchSize: number | undefined;
  readonly #startedWithStartAfter: boolean;
  readonly #emitter = new Emitter<ChangeStreamEvents>();
  readonly #closing = new AbortController();
  readonly #started: Promise<void>;
  #connection: ClientConnection | undefined;
  #cursorId = 0;
  #buffer: BufferedChange[] = [];
  #bufferHead = 0;
  #resumeToken: ResumeToken | undefined;
  #startAtOperationTime: Timestamp | undefined;
  #returnedAny = false;
  #prefetch: Promise<OkReply> | undefined;
  #exhausted = false;
  #closed = false;
  #failure: unknown;
  #queue: Promise<unknown> = Promise.resolve();
  #detachSignal: (() => void) | undefined;

  constructor(host: StreamHost, target: StreamTarget, pipeline: readonly Document[], options: WatchOptions = {}) {
    const { maxAwaitTimeMS, signal, resumeAfter, startAfter, startAtOperationTime, batchSize, ...stageOptions } = options;
    this.#host = host;
    this.#target = target;
    this.#pipeline = pipeline;
    this.#stageOptions = stageOptions;
    this.#maxAwaitTimeMS = maxAwaitTimeMS ?? DEFAULT_MAX_AWAIT_MS;
    this.#batchSize = batchSize;
    this.#startedWithStartAfter = startAfter !== undefined;
    this.#resumeToken = startAfter ?? resumeAfter;
    this.#startAtOperationTime = startAtOperationTime;
    const start: StartOptions = {
      ...(resumeAfter === undefined ? {} : { resumeAfter }),
      ...(startAfter === undefined ? {} : { startAfter }),
      ...(startAtOperationTime === undefined ? {} : { startAtOperationTime }),
    };
    if (signal) {
      const onAbort = (): void => void this.close();
      if (signal.aborted) this.#closing.abort(new ClosedError('the change stream was aborted'));
      else {
        signal.addEventListener('abort', onAbort, { once: true });
        this.#detachSignal = () => signal.removeEventListener('abort', onAbort);
      }
    }
    this.#started = this.#openWithRetry(start).catch(async (error: unknown) => {
      // A stream closed by its user ends quietly; anything else is a failure to report.
      if (!this.#closing.signal.aborted) this.#failure = error;
      await this.#shutdown();
      throw error;
    });
    this.#started.catch(() => undefined);
  }

  /** The cached resume token: where this stream would resume. */
  get resumeToken(): ResumeToken | undefined {
    return this.#resumeToken;
  }

  /**
   * Whether the stream may still return changes. False once closed, or once an `invalidate`
   * has been returned and nothing is left.
   */
  get alive(): boolean {
    return !this.#closed && !(this.#exhausted && this.#buffered === 0);
  }

  /** Resolves once the first cursor is open (rejects if it could not be opened). */
  ready(): Promise<void> {
    return this.#started;
  }

  /** Listen to `resumeTokenChanged` or `resumed`; returns a function that removes the listener. */
  on<Name extends keyof ChangeStreamEvents>(event: Name, listener: (...args: ChangeStreamEvents[Name]) => void): () => void {
    return this.#emitter.on(event, listener);
  }

  /** Remove a listener. */
  off<Name extends keyof ChangeStreamEvents>(event: Name, listener: (...args: ChangeStreamEvents[Name]) => void): void {
    this.#emitter.off(event, listener);
  }

  /** Wait for the next change. Throws `ClosedError` once the stream is closed or invalidated and drained. */
  next(): Promise<TChange> {
    return this.#serialize(async () => {
      await this.#started;
      for (;;) {
        if (this.#buffered > 0) return this.#take();
        this.#throwIfFinished();
        await this.#fetch();
      }
    });
  }

  /**
   * Return a buffered change, or run one getMore (held by the server up to `maxAwaitTimeMS`)
   * and return its first change; `null` when there is nothing new.
   */
  tryNext(): Promise<TChange | null> {
    return this.#serialize(async () => {
      await this.#started;
      if (this.#buffered > 0) return this.#take();
      if (this.#exhausted) return null;
      this.#throwIfFinished();
      await this.#fetch();
      return this.#buffered > 0 ? this.#take() : null;
    });
  }

  /** Wait until a change is available (true), or the stream has finished (false). */
  hasNext(): Promise<boolean> {
    return this.#serialize(async () => {
      await this.#started;
      for (;;) {
        if (this.#buffered > 0) return true;
        if (this.#closed || this.#exhausted) return false;
        await this.#fetch();
      }
    });
  }

  /** Close the stream and its server cursor. Pending `next()` calls reject with `ClosedError`. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closing.abort(new ClosedError('the change stream is closed'));
    await this.#shutdown();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  [Symbol.asyncIterator](): AsyncIterator<TChange> {
    return {
      next: async (): Promise<IteratorResult<TChange>> => {
        try {
          if (!this.alive && this.#failure === undefined) return { done: true, value: undefined };
          return { done: false, value: await this.next() };
        } catch (error) {
          if (error instanceof ClosedError && this.#failure === undefined) return { done: true, value: undefined };
          throw error;
        }
      },
      return: async (): Promise<IteratorResult<TChange>> => {
        await this.close();
        return { done: true, value: undefined };
      },
    };
  }

  get #buffered(): number {
    return this.#buffer.length - this.#bufferHead;
  }

  #throwIfFinished(): void {
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#closed || this.#exhausted) throw new ClosedError('the change stream is closed');
  }

  #serialize<T>(operation: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(operation, operation);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #take(): TChange {
    const entry = this.#buffer[this.#bufferHead] as BufferedChange;
    this.#bufferHead += 1;
    if (this.#bufferHead === this.#buffer.length) {
      this.#buffer = [];
      this.#bufferHead = 0;
    }
    const id = entry.change['_id'];
    if (typeof id !== 'object' || id === null) {
      const error = new ChangeStreamError(ErrorCode.ChangeStreamFatalError, 'Cannot provide resume functionality when the resume token is missing.');
      this.#failure = error;
      void this.#shutdown();
      throw error;
    }
    this.#returnedAny = true;
    this.#setToken(entry.batchToken ?? (id as ResumeToken));
    return entry.change as TChange;
  }

  #setToken(token: ResumeToken): void {
    if (this.#resumeToken?._data === token._data && this.#resumeToken !== undefined) return;
    this.#resumeToken = token;
    this.#emitter.emit('resumeTokenChanged', token);
  }

  #accept(reply: OkReply, connection: ClientConnection): void {
    const cursor = reply.cursor;
    if (!cursor) throw new ChangeStreamError(ErrorCode.InternalError, 'reply without a cursor');
    const batch = cursor.firstBatch ?? cursor.nextBatch ?? [];
    this.#connection = connection;
    this.#cursorId = cursor.id;
    if (cursor.id === 0) this.#exhausted = true;
    if (batch.length === 0) {
      this.#setToken(cursor.postBatchResumeToken);
      return;
    }
    for (let index = 0; index < batch.length; index += 1) {
      const last = index === batch.length - 1;
      this.#buffer.push({ change: batch[index] as Document, batchToken: last ? cursor.postBatchResumeToken : undefined });
    }
  }

  #wait<T>(promise: Promise<T>): Promise<T> {
    return waitFor(promise, { signal: this.#closing.signal }).catch((error: unknown) => {
      if (error instanceof AbortError || this.#closed) throw new ClosedError('the change stream is closed', { cause: error });
      throw error;
    });
  }

  #sendGetMore(): Promise<OkReply> {
    const connection = this.#connection;
    if (!connection || this.#cursorId === 0) return Promise.reject(new ConnectionError('no open cursor'));
    return connection.request(
      {
        op: 'getMore',
        cursorId: this.#cursorId,
        maxAwaitTimeMS: this.#maxAwaitTimeMS,
        ...(this.#batchSize === undefined ? {} : { batchSize: this.#batchSize }),
      },
      this.#maxAwaitTimeMS + this.#host.socketTimeoutMS,
    );
  }

  /** One getMore (or the pipelined one already in flight); resumes once on a resumable error. */
  async #fetch(): Promise<void> {
    const connection = this.#connection as ClientConnection;
    let reply: OkReply;
    try {
      const pending = this.#prefetch ?? this.#sendGetMore();
      this.#prefetch = undefined;
      reply = await this.#wait(pending);
    } catch (error) {
      if (this.#closed) throw new ClosedError('the change stream is closed', { cause: error });
      if (!isResumableError(error)) return this.#fail(error);
      try {
        await this.#resume(error as Error);
      } catch (resumeError) {
        return this.#fail(resumeError);
      }
      return;
    }
    this.#accept(reply, connection);
    if (this.#host.pipelining && !this.#exhausted && this.#buffered > 0) {
      const prefetch = this.#sendGetMore();
      prefetch.catch(() => undefined);
      this.#prefetch = prefetch;
    }
  }

  async #fail(error: unknown): Promise<never> {
    this.#failure = error;
    await this.#shutdown();
    throw error;
  }

  async #resume(cause: Error): Promise<void> {
    const connection = this.#connection;
    const cursorId = this.#cursorId;
    this.#connection = undefined;
    this.#cursorId = 0;
    this.#prefetch = undefined;
    if (connection?.usable && cursorId !== 0) {
      connection.request({ op: 'killCursors', cursorIds: [cursorId] }, this.#host.socketTimeoutMS).catch(() => undefined);
    }
    await this.#openWithRetry(this.#resumeStart());
    this.#emitter.emit('resumed', cause);
  }

  /** The start option for resuming, per the specification. */
  #resumeStart(): StartOptions {
    if (this.#resumeToken !== undefined) {
      return this.#startedWithStartAfter && !this.#returnedAny ? { startAfter: this.#resumeToken } : { resumeAfter: this.#resumeToken };
    }
    return this.#startAtOperationTime === undefined ? {} : { startAtOperationTime: this.#startAtOperationTime };
  }

  /**
   * Open a cursor. An attempt that fails on the network never reached a server, so, like
   * server selection, it is retried until `serverSelectionTimeoutMS`; a server's error is not.
   */
  async #openWithRetry(start: StartOptions): Promise<void> {
    const deadline = Date.now() + this.#host.serverSelectionTimeoutMS;
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.#open(start);
        return;
      } catch (error) {
        const network = error instanceof ConnectionError || error instanceof TimeoutError;
        if (this.#closed || !network || Date.now() >= deadline) throw error;
      }
      await this.#wait(delay(Math.min(10 * attempt, 250)));
    }
  }

  async #open(start: StartOptions): Promise<void> {
    const connection = await this.#wait(this.#host.acquire(this.#closing.signal));
    const reply = await this.#wait(
      connection.request(
        {
          op: 'watch',
          ns: this.#target,
          pipeline: this.#pipeline,
          options: { ...this.#stageOptions, ...start, ...(this.#batchSize === undefined ? {} : { batchSize: this.#batchSize }) },
        },
        this.#host.socketTimeoutMS,
      ),
    );
    if (this.#closed) {
      const id = reply.cursor?.id ?? 0;
      if (id !== 0) connection.request({ op: 'killCursors', cursorIds: [id] }, this.#host.socketTimeoutMS).catch(() => undefined);
      throw new ClosedError('the change stream is closed');
    }
    if (this.#resumeToken === undefined && this.#startAtOperationTime === undefined && reply.operationTime !== undefined) {
      this.#startAtOperationTime = reply.operationTime;
    }
    this.#accept(reply, connection);
  }

  #shutdown(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    this.#detachSignal?.();
    this.#host.release(this as ChangeStream<unknown>);
    this.#buffer = [];
    this.#bufferHead = 0;
    this.#prefetch = undefined;
    const connection = this.#connection;
    const cursorId = this.#cursorId;
    this.#cursorId = 0;
    if (connection?.usable && cursorId !== 0) {
      // Sent, not awaited: a server that never answers must not hold up close().
      connection.request({ op: 'killCursors', cursorIds: [cursorId] }, this.#host.socketTimeoutMS).catch(() => undefined);
    }
    return Promise.resolve();
  }
}
