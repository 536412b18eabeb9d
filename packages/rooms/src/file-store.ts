import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rename, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { deferred, type Deferred } from '@rt/transport';
import { StorageError } from './errors.js';
import type { RoomStore } from './store.js';
import { encodeRecord, LOG_MAGIC, readLog } from './update-log.js';

/** Options for `fileStore()`. */
export interface FileStoreOptions {
  /** Directory holding one log file per room (created if missing). */
  directory: string;
  /** `fdatasync` after each batch of writes, so acknowledged updates survive power loss. Default `true`. */
  sync?: boolean;
  /** Called when a torn or corrupt tail was cut off a log while loading. */
  onTornTail?: (roomId: string, droppedBytes: number) => void;
}

type Operation =
  | { kind: 'append'; record: Uint8Array; done: Deferred<void> }
  | { kind: 'compact'; snapshot: Uint8Array; done: Deferred<void> };

interface RoomLog {
  readonly path: string;
  handle: FileHandle | undefined;
  /** Size of the file behind `handle`: where the next record starts. */
  size: number;
  readonly queue: Operation[];
  writer: Promise<void> | undefined;
}

/**
 * A durable store: one append-only log file per room. Concurrent appends are written in
 * one batch and synced once (group commit); compaction writes a snapshot to a temporary
 * file, syncs it and renames it over the log, so a crash leaves either log intact.
 */
export class FileStore implements RoomStore {
  /** The directory holding the logs. */
  readonly directory: string;
  readonly #sync: boolean;
  readonly #onTornTail: FileStoreOptions['onTornTail'];
  readonly #logs = new Map<string, RoomLog>();
  #directoryReady: Promise<void> | undefined;

  constructor(options: FileStoreOptions) {
    this.directory = options.directory;
    this.#sync = options.sync ?? true;
    this.#onTornTail = options.onTornTail;
  }

  /** The log file of `roomId`. */
  pathFor(roomId: string): string {
    const readable = encodeURIComponent(roomId).replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16)}`);
    const name =
      readable.length <= 200 ? `r-${readable}` : `h-${createHash('sha256').update(roomId).digest('hex')}`;
    return join(this.directory, `${name}.ylog`);
  }

  async load(roomId: string): Promise<Uint8Array[]> {
    const log = this.#log(roomId);
    await this.#drain(log);
    await this.#closeHandle(log);
    let bytes: Uint8Array;
    try {
      bytes = await readFile(log.path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const contents = readLog(bytes);
    if (contents.tornTail || contents.headerMissing) {
      this.#onTornTail?.(roomId, bytes.length - contents.validLength);
      await this.#repair(log, contents.validLength);
    }
    return contents.records;
  }

  append(roomId: string, update: Uint8Array): Promise<void> {
    return this.#enqueue(roomId, { kind: 'append', record: encodeRecord(update), done: deferred<void>() });
  }

  compact(roomId: string, snapshot: Uint8Array): Promise<void> {
    return this.#enqueue(roomId, { kind: 'compact', snapshot: snapshot.slice(), done: deferred<void>() });
  }

  async flush(roomId: string): Promise<void> {
    const log = this.#logs.get(roomId);
    if (log) await this.#drain(log);
  }

  async release(roomId: string): Promise<void> {
    const log = this.#logs.get(roomId);
    if (!log) return;
    await this.#drain(log);
    await this.#closeHandle(log);
    if (this.#logs.get(roomId) === log && log.queue.length === 0) this.#logs.delete(roomId);
  }

  async close(): Promise<void> {
    await Promise.all([...this.#logs.keys()].map((roomId) => this.release(roomId)));
  }

  #log(roomId: string): RoomLog {
    let log = this.#logs.get(roomId);
    if (!log) {
      log = { path: this.pathFor(roomId), handle: undefined, size: 0, queue: [], writer: undefined };
      this.#logs.set(roomId, log);
    }
    return log;
  }

  #enqueue(roomId: string, operation: Operation): Promise<void> {
    const log = this.#log(roomId);
    log.queue.push(operation);
    log.writer ??= this.#write(log);
    return operation.done.promise;
  }

  async #drain(log: RoomLog): Promise<void> {
    while (log.writer) await log.writer;
  }

  /** The single writer of one log: batches consecutive appends, runs compactions in order. */
  async #write(log: RoomLog): Promise<void> {
    // Let every append issued in this tick join the batch.
    await Promise.resolve();
    try {
      while (log.queue.length > 0) {
        const next = log.queue[0]!;
        if (next.kind === 'compact') {
          log.queue.shift();
          await this.#settle([next], () => this.#replace(log, next.snapshot));
          continue;
        }
        const batch: Extract<Operation, { kind: 'append' }>[] = [];
        while (log.queue[0]?.kind === 'append') batch.push(log.queue.shift() as Extract<Operation, { kind: 'append' }>);
        await this.#settle(batch, () => this.#appendRecords(log, concat(batch.map((operation) => operation.record))));
      }
    } finally {
      log.writer = undefined;
    }
  }

  async #settle(operations: Operation[], work: () => Promise<void>): Promise<void> {
    try {
      await work();
      for (const operation of operations) operation.done.resolve();
    } catch (error) {
      const failure = new StorageError(`writing ${operations.length} record(s) failed: ${String(error)}`, { cause: error });
      for (const operation of operations) operation.done.reject(failure);
    }
  }

  async #appendRecords(log: RoomLog, bytes: Uint8Array): Promise<void> {
    const handle = await this.#appendHandle(log);
    try {
      await writeFully(handle, bytes);
      if (this.#sync) await handle.datasync();
      log.size += bytes.length;
    } catch (error) {
      // Never leave half a record behind: later records would be unreadable after it.
      await handle.truncate(log.size).catch(() => undefined);
      await this.#closeHandle(log).catch(() => undefined);
      throw error;
    }
  }

  async #appendHandle(log: RoomLog): Promise<FileHandle> {
    if (log.handle) return log.handle;
    await this.#ensureDirectory();
    const handle = await open(log.path, 'a');
    try {
      let size = (await handle.stat()).size;
      if (size === 0) {
        await writeFully(handle, LOG_MAGIC);
        size = LOG_MAGIC.length;
      }
      log.size = size;
    } catch (error) {
      await handle.close();
      throw error;
    }
    log.handle = handle;
    return handle;
  }

  /** Swap the log for a fresh one holding `snapshot` (or nothing): temp file, sync, rename. */
  async #replace(log: RoomLog, snapshot: Uint8Array | undefined): Promise<void> {
    await this.#ensureDirectory();
    await this.#closeHandle(log);
    const temporary = `${log.path}.tmp`;
    const handle = await open(temporary, 'w');
    try {
      await handle.write(snapshot ? concat([LOG_MAGIC, encodeRecord(snapshot)]) : LOG_MAGIC);
      if (this.#sync) await handle.datasync();
    } finally {
      await handle.close();
    }
    await rename(temporary, log.path);
    if (this.#sync) await this.#syncDirectory();
  }

  /** Cut a damaged tail off (or rewrite a log without a valid header). */
  async #repair(log: RoomLog, validLength: number): Promise<void> {
    if (validLength === 0) {
      await this.#replace(log, undefined);
      return;
    }
    const handle = await open(log.path, 'r+');
    try {
      await handle.truncate(validLength);
      if (this.#sync) await handle.datasync();
    } finally {
      await handle.close();
    }
  }

  async #closeHandle(log: RoomLog): Promise<void> {
    const handle = log.handle;
    log.handle = undefined;
    await handle?.close();
  }

  #ensureDirectory(): Promise<void> {
    this.#directoryReady ??= mkdir(this.directory, { recursive: true }).then(() => undefined);
    return this.#directoryReady;
  }

  async #syncDirectory(): Promise<void> {
    const handle = await open(this.directory, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
}

async function writeFully(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset);
    offset += bytesWritten;
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  const joined = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  return joined;
}

/** Create a durable file store (see `FileStore`). */
export function fileStore(options: FileStoreOptions): FileStore {
  return new FileStore(options);
}
