/**
 * The byte buffer under the binary encoders: grows by doubling, and hands out an exact-size
 * copy per encoded message while keeping its own memory for the next one.
 */
export abstract class GrowableWriter {
  /** The working buffer; valid up to `pos`. */
  protected buffer = new Uint8Array(4096);
  /** A view of `buffer` for multi-byte numbers. */
  protected view = new DataView(this.buffer.buffer);
  /** Bytes written so far for the current message. */
  protected pos = 0;

  /** Encode one value into a fresh byte array. */
  encode(value: unknown): Uint8Array {
    this.pos = 0;
    this.write(value);
    return this.buffer.slice(0, this.pos);
  }

  /** Write one value at `pos`. */
  protected abstract write(value: unknown): void;

  /** Make room for `extra` more bytes. */
  protected ensure(extra: number): void {
    const needed = this.pos + extra;
    if (needed <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < needed) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buffer.subarray(0, this.pos));
    this.buffer = next;
    this.view = new DataView(next.buffer);
  }
}
