import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { crc32 } from 'node:zlib';
import { ClosedError } from '@rt/transport';

/**
 * An append-only file of records, each framed as a 4-byte big-endian length, a 4-byte CRC-32
 * of the payload, then the payload. Appends are group-committed: every append waiting while a
 * write is in flight goes out in the next single write + `fdatasync`. On open, a torn or
 * corrupt tail (a crash in the middle of a write) is cut off.
 *
 * `rewrite` replaces the whole file (compaction) crash-safely: the new content goes to
 * `<path>.compact`, is fsynced, then renamed over the file (atomic), and the directory is
 * fsynced. A crash before the rename leaves the old file (the stray `.compact` file is removed
 * on open); after it, the new one.
 */

const HEADER_SIZE = 8;

/** Options of `DurableLog.open`. */
export interface DurableLogOptions {
  /** `fdatasync` after each group of appends (default true). Off trades crash safety for speed. */
  sync?: boolean;
}

interface PendingAppend {
  readonly bytes: Uint8Array;
  resolve(): void;
  reject(error: unknown): void;
}

interface PendingRewrite {
  readonly produce: () => Iterable<Uint8Array>;
  resolve(): void;
  reject(error: unknown): void;
}

type PendingItem = PendingAppend | PendingRewrite;

/** Suffix of the temporary file a rewrite writes before renaming it over the log. */
export const COMPACT_SUFFIX = '.compact';

/** Frames written per chunk while rewriting. */
const REWRITE_CHUNK_BYTES = 1 << 20;

async function syncDirectory(path: string): Promise<void> {
  const directory = await open(path, 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}

/**
 * Write one frame (length, CRC-32, payload) into `target` at `offset`; `view` covers `target`.
 * Returns the offset just past the frame.
 */
function putFrame(target: Uint8Array, view: DataView, offset: number, payload: Uint8Array): number {
  view.setUint32(offset, payload.length);
  view.setUint32(offset + 4, crc32(payload));
  target.set(payload, offset + HEADER_SIZE);
  return offset + HEADER_SIZE + payload.length;
}

/** Frame one payload. */
export function frameRecord(payload: Uint8Array): Uint8Array {
  const frame = new Uint8Array(HEADER_SIZE + payload.length);
  putFrame(frame, new DataView(frame.buffer), 0, payload);
  return frame;
}

/** Split a file's bytes into payloads; `validLength` is where the intact prefix ends. */
export function readRecords(bytes: Uint8Array): { payloads: Uint8Array[]; validLength: number } {
  const payloads: Uint8Array[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 0;
  while (offset + HEADER_SIZE <= bytes.length) {
    const length = view.getUint32(offset);
    const checksum = view.getUint32(offset + 4);
    const end = offset + HEADER_SIZE + length;
    if (end > bytes.length) break;
    const payload = bytes.subarray(offset + HEADER_SIZE, end);
    if (crc32(payload) !== checksum) break;
    payloads.push(payload);
    offset = end;
  }
  return { payloads, validLength: offset };
}

/** A crash-safe append-only record file. */
export class DurableLog {
  readonly #path: string;
  #file: FileHandle;
  readonly #sync: boolean;
  #size: number;
  #pending: PendingItem[] = [];
  #flushing = false;
  #closed = false;
  #failure: unknown;

  private constructor(path: string, file: FileHandle, size: number, sync: boolean) {
    this.#path = path;
    this.#file = file;
    this.#size = size;
    this.#sync = sync;
  }

  /** Open (or create) the file, cut any torn tail, and return the intact payloads. */
  static async open(path: string, options: DurableLogOptions = {}): Promise<{ log: DurableLog; payloads: Uint8Array[] }> {
    await rm(path + COMPACT_SUFFIX, { force: true });
    const file = await open(path, 'a+');
    try {
      const bytes = await file.readFile();
      const { payloads, validLength } = readRecords(bytes);
      if (validLength < bytes.length) {
        await file.truncate(validLength);
        await file.sync();
      }
      return { log: new DurableLog(path, file, validLength, options.sync ?? true), payloads };
    } catch (error) {
      await file.close();
      throw error;
    }
  }

  /** Bytes in the file. */
  get size(): number {
    return this.#size;
  }

  /** Append payloads; resolves once they are on disk (per the `sync` option). */
  append(payloads: readonly Uint8Array[]): Promise<void> {
    if (this.#closed) return Promise.reject(new ClosedError('the change log is closed'));
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    let total = 0;
    for (const payload of payloads) total += HEADER_SIZE + payload.length;
    const bytes = new Uint8Array(total);
    const view = new DataView(bytes.buffer);
    let offset = 0;
    for (const payload of payloads) offset = putFrame(bytes, view, offset, payload);
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ bytes, resolve, reject });
      if (!this.#flushing) void this.#flush();
    });
  }

  /**
   * Replace the file's content with the payloads `produce` yields, after every append queued
   * before this call is written; appends queued after it go to the new file. Resolves once
   * the new file is durable in place. On failure the old file stays in use.
   */
  rewrite(produce: () => Iterable<Uint8Array>): Promise<void> {
    if (this.#closed) return Promise.reject(new ClosedError('the change log is closed'));
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ produce, resolve, reject });
      if (!this.#flushing) void this.#flush();
    });
  }

  /** Wait for pending appends, then close the file. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    while (this.#flushing) await new Promise((resolve) => setImmediate(resolve));
    await this.#file.close();
  }

  async #flush(): Promise<void> {
    this.#flushing = true;
    while (this.#pending.length > 0) {
      const first = this.#pending[0] as PendingItem;
      if ('produce' in first) {
        this.#pending.shift();
        await this.#rewrite(first);
        continue;
      }
      const stop = this.#pending.findIndex((item) => 'produce' in item);
      const group = this.#pending.splice(0, stop < 0 ? this.#pending.length : stop) as PendingAppend[];
      try {
        const bytes = group.length === 1 ? (group[0] as PendingAppend).bytes : Buffer.concat(group.map((item) => item.bytes));
        await this.#file.write(bytes, 0, bytes.length, null);
        if (this.#sync) await this.#file.datasync();
        this.#size += bytes.length;
        for (const item of group) item.resolve();
      } catch (error) {
        // A failed write leaves the file in an unknown state: refuse every later append.
        this.#failure = error;
        for (const item of [...group, ...this.#pending.splice(0)]) item.reject(error);
      }
    }
    this.#flushing = false;
  }

  async #rewrite(item: PendingRewrite): Promise<void> {
    if (this.#failure !== undefined) {
      item.reject(this.#failure);
      return;
    }
    const temporary = this.#path + COMPACT_SUFFIX;
    let file: FileHandle | undefined;
    let renamed = false;
    try {
      file = await open(temporary, 'w');
      let size = 0;
      let chunk: Uint8Array[] = [];
      let chunkBytes = 0;
      const writeChunk = async (): Promise<void> => {
        const bytes = Buffer.concat(chunk);
        await (file as FileHandle).write(bytes, 0, bytes.length, null);
        size += bytes.length;
        chunk = [];
        chunkBytes = 0;
      };
      for (const payload of item.produce()) {
        const frame = frameRecord(payload);
        chunk.push(frame);
        chunkBytes += frame.length;
        if (chunkBytes >= REWRITE_CHUNK_BYTES) await writeChunk();
      }
      if (chunk.length > 0) await writeChunk();
      await file.sync();
      await rename(temporary, this.#path);
      renamed = true;
      const old = this.#file;
      this.#file = file;
      this.#size = size;
      file = undefined;
      await old.close().catch(() => undefined);
      await syncDirectory(dirname(this.#path));
      item.resolve();
    } catch (error) {
      await file?.close().catch(() => undefined);
      if (!renamed) await rm(temporary, { force: true }).catch(() => undefined);
      item.reject(error);
    }
  }
}
