import { GrowableWriter } from './growable-writer.js';

const textEncoder = new TextEncoder();

/**
 * A MessagePack writer that always picks the smallest encoding, including unsigned 64-bit
 * integers for IDs beyond 32 bits (strict peers reject IDs sent as floats). Decoding uses
 * `@rt/transport`'s msgpackr codec.
 */
export class MsgpackEncoder extends GrowableWriter {
  #byte(value: number): void {
    this.buffer[this.pos++] = value;
  }

  protected write(value: unknown): void {
    this.ensure(9);
    switch (typeof value) {
      case 'string':
        return this.#string(value);
      case 'number':
        return Number.isInteger(value) ? this.#integer(value) : this.#float(value);
      case 'boolean':
        return this.#byte(value ? 0xc3 : 0xc2);
      case 'bigint':
        return this.#bigint(value);
      case 'object':
        if (value === null) return this.#byte(0xc0);
        if (Array.isArray(value)) return this.#array(value);
        if (value instanceof Uint8Array) return this.#binary(value);
        return this.#map(value as Record<string, unknown>);
      default:
        return this.#byte(0xc0);
    }
  }

  #integer(value: number): void {
    const view = this.view;
    if (value >= 0) {
      if (value < 0x80) this.#byte(value);
      else if (value < 0x100) { this.#byte(0xcc); this.#byte(value); }
      else if (value < 0x10000) { this.#byte(0xcd); view.setUint16(this.pos, value); this.pos += 2; }
      else if (value < 0x100000000) { this.#byte(0xce); view.setUint32(this.pos, value); this.pos += 4; }
      else if (Number.isSafeInteger(value)) { this.#byte(0xcf); view.setBigUint64(this.pos, BigInt(value)); this.pos += 8; }
      else this.#float(value);
    } else if (value >= -0x20) this.#byte(0x100 + value);
    else if (value >= -0x80) { this.#byte(0xd0); view.setInt8(this.pos, value); this.pos += 1; }
    else if (value >= -0x8000) { this.#byte(0xd1); view.setInt16(this.pos, value); this.pos += 2; }
    else if (value >= -0x80000000) { this.#byte(0xd2); view.setInt32(this.pos, value); this.pos += 4; }
    else if (Number.isSafeInteger(value)) { this.#byte(0xd3); view.setBigInt64(this.pos, BigInt(value)); this.pos += 8; }
    else this.#float(value);
  }

  #bigint(value: bigint): void {
    if (value >= 0n && value < 1n << 64n) {
      this.#byte(0xcf);
      this.view.setBigUint64(this.pos, value);
    } else if (value < 0n && value >= -(1n << 63n)) {
      this.#byte(0xd3);
      this.view.setBigInt64(this.pos, value);
    } else throw new RangeError('integer does not fit in 64 bits');
    this.pos += 8;
  }

  #float(value: number): void {
    this.#byte(0xcb);
    this.view.setFloat64(this.pos, value);
    this.pos += 8;
  }

  #string(value: string): void {
    const length = value.length;
    if (length < 0x20 && this.#asciiShort(value, length)) return;
    const maxBytes = length * 3;
    this.ensure(maxBytes + 5);
    // Reserve the largest header the string could need, then shift if it was smaller.
    const headerSize = maxBytes < 0x20 ? 1 : maxBytes < 0x100 ? 2 : maxBytes < 0x10000 ? 3 : 5;
    const start = this.pos;
    const { written } = textEncoder.encodeInto(value, this.buffer.subarray(start + headerSize));
    const actualHeader = written < 0x20 ? 1 : written < 0x100 ? 2 : written < 0x10000 ? 3 : 5;
    if (actualHeader !== headerSize) {
      this.buffer.copyWithin(start + actualHeader, start + headerSize, start + headerSize + written);
    }
    if (actualHeader === 1) this.buffer[start] = 0xa0 | written;
    else if (actualHeader === 2) { this.buffer[start] = 0xd9; this.buffer[start + 1] = written; }
    else if (actualHeader === 3) { this.buffer[start] = 0xda; this.view.setUint16(start + 1, written); }
    else { this.buffer[start] = 0xdb; this.view.setUint32(start + 1, written); }
    this.pos = start + actualHeader + written;
  }

  /** Short ASCII strings (most keys and URIs) are copied byte by byte; false when one is not ASCII. */
  #asciiShort(value: string, length: number): boolean {
    this.ensure(length + 1);
    const buffer = this.buffer;
    const start = this.pos;
    for (let i = 0; i < length; i++) {
      const code = value.charCodeAt(i);
      if (code >= 0x80) return false;
      buffer[start + 1 + i] = code;
    }
    buffer[start] = 0xa0 | length;
    this.pos = start + 1 + length;
    return true;
  }

  #binary(value: Uint8Array): void {
    this.ensure(value.length + 5);
    if (value.length < 0x100) { this.#byte(0xc4); this.#byte(value.length); }
    else if (value.length < 0x10000) { this.#byte(0xc5); this.view.setUint16(this.pos, value.length); this.pos += 2; }
    else { this.#byte(0xc6); this.view.setUint32(this.pos, value.length); this.pos += 4; }
    this.buffer.set(value, this.pos);
    this.pos += value.length;
  }

  #header(size: number, fix: number, code16: number): void {
    if (size < 16) this.#byte(fix | size);
    else if (size < 0x10000) { this.#byte(code16); this.view.setUint16(this.pos, size); this.pos += 2; }
    else { this.#byte(code16 + 1); this.view.setUint32(this.pos, size); this.pos += 4; }
  }

  #array(value: unknown[]): void {
    this.ensure(5);
    this.#header(value.length, 0x90, 0xdc);
    for (const item of value) this.write(item);
  }

  #map(value: Record<string, unknown>): void {
    let size = 0;
    for (const key in value) if (value[key] !== undefined) size++;
    this.ensure(5);
    this.#header(size, 0x80, 0xde);
    for (const key in value) {
      const item = value[key];
      if (item === undefined) continue;
      this.#string(key);
      this.write(item);
    }
  }
}
