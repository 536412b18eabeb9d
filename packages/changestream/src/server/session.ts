import type { IncomingMessage } from 'node:http';
import type { Transport, TransportMessage } from '@rt/transport';
import { ChangeStreamError } from '../errors.js';
import { ErrorCode } from '../error-codes.js';
import {
  OP_GET_MORE,
  OP_KILL_CURSORS,
  OP_REPLY,
  OP_WATCH,
  RequestError,
  decodeRequest,
  encodeCursorReply,
  encodeReply,
  errorReply,
  type GetMoreRequest,
  type KillCursorsRequest,
  type Reply,
  type WatchRequest,
} from '../protocol.js';
import type { ChangeStreamStageOptions, Document } from '../types.js';
import type { ChangeLog } from './change-log.js';
import { compilePipeline } from './pipeline.js';
import type { DocumentLookup } from './render.js';
import { ServerCursor, type CursorScope } from './cursor.js';

/** What `authorize` is asked about one watch request. */
export interface AuthorizeRequest {
  /** The namespace to watch (`{}` for everything). */
  readonly ns: CursorScope;
  readonly pipeline: readonly Document[];
  readonly options: ChangeStreamStageOptions;
  /** The client's address, when known. */
  readonly remoteAddress: string | undefined;
  /** The HTTP upgrade request (WebSocket connections), for headers and cookies. */
  readonly request: IncomingMessage | undefined;
}

/** Decides whether a watch request may proceed. */
export type Authorize = (request: AuthorizeRequest) => boolean | Promise<boolean>;

/** Limits and hooks shared by every session of a server. */
export interface SessionContext {
  readonly log: ChangeLog;
  readonly lookup: DocumentLookup | undefined;
  readonly authorize: Authorize | undefined;
  readonly maxCursorsPerConnection: number;
  readonly maxAwaitTimeMS: number;
  readonly defaultBatchSize: number;
  readonly maxBatchSize: number;
  nextCursorId(): number;
}

interface OpenCursor {
  readonly cursor: ServerCursor;
  /** getMores on one cursor run one after another (a client may pipeline them). */
  tail: Promise<void>;
  readonly abort: AbortController;
}

/** One client connection: decodes requests, runs them, writes replies. */
export class Session {
  readonly #context: SessionContext;
  readonly #transport: Transport;
  readonly #request: IncomingMessage | undefined;
  readonly #cursors = new Map<number, OpenCursor>();
  readonly #abort = new AbortController();

  constructor(context: SessionContext, transport: Transport, request: IncomingMessage | undefined) {
    this.#context = context;
    this.#transport = transport;
    this.#request = request;
  }

  /** Serve until the connection closes. */
  async run(): Promise<void> {
    try {
      for await (const message of this.#transport) this.#dispatch(message);
    } finally {
      this.#abort.abort();
      for (const open of this.#cursors.values()) open.abort.abort();
      this.#cursors.clear();
    }
  }

  /** Number of open cursors. */
  get cursorCount(): number {
    return this.#cursors.size;
  }

  #dispatch(message: TransportMessage): void {
    let request;
    try {
      request = decodeRequest(message);
    } catch (error) {
      const failure = error instanceof RequestError ? error : new RequestError(null, ErrorCode.FailedToParse, String(error));
      this.#send(errorReply(failure.requestId, failure.errorCode, failure.message));
      return;
    }
    switch (request.op) {
      case OP_WATCH:
        void this.#watch(request);
        break;
      case OP_GET_MORE:
        this.#getMore(request);
        break;
      case OP_KILL_CURSORS:
        this.#killCursors(request);
        break;
    }
  }

  async #watch(request: WatchRequest): Promise<void> {
    try {
      if (this.#cursors.size >= this.#context.maxCursorsPerConnection) {
        throw new ChangeStreamError(ErrorCode.TooManyCursors, `a connection may hold at most ${this.#context.maxCursorsPerConnection} cursors`);
      }
      const pipeline = compilePipeline(request.pipeline);
      if (this.#context.authorize) {
        const allowed = await this.#context.authorize({
          ns: request.ns,
          pipeline: request.pipeline,
          options: request.options,
          remoteAddress: this.#transport.remoteAddress,
          request: this.#request,
        });
        if (!allowed) throw new ChangeStreamError(ErrorCode.Unauthorized, 'not authorized to watch this namespace');
      }
      const cursor = new ServerCursor({
        id: this.#context.nextCursorId(),
        log: this.#context.log,
        scope: request.ns,
        pipeline,
        options: request.options,
        lookup: this.#context.lookup,
      });
      const batchSize = Math.min(request.options.batchSize ?? this.#context.defaultBatchSize, this.#context.maxBatchSize);
      const batch = batchSize === 0 ? undefined : await cursor.nextBatch(batchSize, 0, this.#abort.signal);
      const exhausted = batch?.exhausted ?? false;
      // The connection may have closed while authorize or the first batch ran.
      if (this.#abort.signal.aborted) return;
      if (!exhausted) this.#cursors.set(cursor.id, { cursor, tail: Promise.resolve(), abort: new AbortController() });
      this.#write(
        encodeCursorReply(
          request.id,
          {
            id: exhausted ? 0 : cursor.id,
            ns: cursor.namespace,
            first: true,
            encodedEvents: batch?.events ?? [],
            postBatchResumeToken: batch?.postBatchResumeToken ?? cursor.position,
          },
          this.#context.log.operationTime,
        ),
      );
    } catch (error) {
      this.#sendError(request.id, error);
    }
  }

  #getMore(request: GetMoreRequest): void {
    const open = this.#cursors.get(request.cursorId);
    if (!open) {
      this.#send(errorReply(request.id, ErrorCode.CursorNotFound, `cursor id ${request.cursorId} not found`));
      return;
    }
    const requested = request.batchSize === undefined || request.batchSize === 0 ? this.#context.defaultBatchSize : request.batchSize;
    const batchSize = Math.min(requested, this.#context.maxBatchSize);
    const maxAwait = Math.min(request.maxAwaitTimeMS ?? 1000, this.#context.maxAwaitTimeMS);
    open.tail = open.tail.then(async () => {
      if (open.abort.signal.aborted) {
        this.#send(errorReply(request.id, ErrorCode.CursorKilled, `cursor id ${request.cursorId} was killed`));
        return;
      }
      try {
        const batch = await open.cursor.nextBatch(batchSize, maxAwait, open.abort.signal);
        if (open.abort.signal.aborted && batch.events.length === 0) {
          this.#send(errorReply(request.id, ErrorCode.CursorKilled, `cursor id ${request.cursorId} was killed`));
          return;
        }
        if (batch.exhausted) this.#close(open);
        this.#write(
          encodeCursorReply(
            request.id,
            {
              id: batch.exhausted ? 0 : open.cursor.id,
              ns: open.cursor.namespace,
              first: false,
              encodedEvents: batch.events,
              postBatchResumeToken: batch.postBatchResumeToken,
            },
            this.#context.log.operationTime,
          ),
        );
      } catch (error) {
        // A failed getMore kills its cursor, as in MongoDB.
        this.#close(open);
        this.#sendError(request.id, error);
      }
    });
  }

  #killCursors(request: KillCursorsRequest): void {
    const killed: number[] = [];
    const notFound: number[] = [];
    for (const id of request.cursorIds) {
      const open = this.#cursors.get(id);
      if (open) {
        this.#close(open);
        killed.push(id);
      } else notFound.push(id);
    }
    this.#send({ op: OP_REPLY, id: request.id, ok: 1, cursorsKilled: killed, cursorsNotFound: notFound });
  }

  #close(open: OpenCursor): void {
    open.abort.abort();
    this.#cursors.delete(open.cursor.id);
  }

  #sendError(id: number, error: unknown): void {
    if (error instanceof ChangeStreamError) {
      this.#send(errorReply(id, error.code, error.message, error.errorLabels));
      return;
    }
    this.#send(errorReply(id, ErrorCode.InternalError, error instanceof Error ? error.message : String(error)));
  }

  #send(reply: Reply): void {
    this.#write(encodeReply(reply));
  }

  #write(text: string): void {
    if (this.#transport.state !== 'open') return;
    try {
      this.#transport.write(text);
    } catch {
      // The connection closed while the reply was being prepared: nobody is left to tell.
    }
  }
}
