import { GrowableWriter } from './growable-writer.js';

const textEncoder = new TextEncoder();

const UNSIGNED = 0x00;
const NEGATIVE = 0x20;
const BYTES = 0x40;
const TEXT = 0x60;
const ARRAY = 0x80;
const MAP = 0xa0;

/**
 * A CBOR writer with definite lengths and the smallest integer heads (IDs beyond 32 bits stay
 * integers); other numbers are float64, as Autobahn writes them. Decoding uses `cbor-x`.
 */
export class CborEncoder extends GrowableWriter {
  /** A head: major type and argument in the smallest form. */
  #head(major: number, argument: number): void {
    this.ensure(9);
    const buffer = this.buffer;
    if (argument < 24) buffer[this.pos++] = major | argument;
    else if (argument < 0x100) {
      buffer[this.pos++] = major | 24;
      buffer[this.pos++] = argument;
    } else if (argument < 0x10000) {
      buffer[this.pos++] = major | 25;
      this.view.setUint16(this.pos, argument);
      this.pos += 2;
    } else if (argument < 0x100000000) {
      buffer[this.pos++] = major | 26;
      this.view.setUint32(this.pos, argument);
      this.pos += 4;
    } else {
      buffer[this.pos++] = major | 27;
      this.view.setUint32(this.pos, Math.floor(argument / 0x100000000));
      this.view.setUint32(this.pos + 4, argument >>> 0);
      this.pos += 8;
    }
  }

  protected write(value: unknown): void {
    switch (typeof value) {
      case 'string': {
        this.ensure(value.length * 3 + 9);
        const start = this.pos + 9;
        const { written } = textEncoder.encodeInto(value, this.buffer.subarray(start));
        this.#head(TEXT, written);
        this.buffer.copyWithin(this.pos, start, start + written);
        this.pos += written;
        return;
      }
      case 'number':
        if (Number.isSafeInteger(value)) return value >= 0 ? this.#head(UNSIGNED, value) : this.#head(NEGATIVE, -1 - value);
        this.ensure(9);
        this.buffer[this.pos++] = 0xfb;
        this.view.setFloat64(this.pos, value);
        this.pos += 8;
        return;
      case 'bigint':
        if (value >= 0n && value < 1n << 64n) return this.#bigHead(UNSIGNED, value);
        if (value < 0n && value >= -(1n << 64n)) return this.#bigHead(NEGATIVE, -1n - value);
        throw new RangeError('integer does not fit in 64 bits');
      case 'boolean':
        this.ensure(1);
        this.buffer[this.pos++] = value ? 0xf5 : 0xf4;
        return;
      case 'object':
        if (value === null) break;
        if (Array.isArray(value)) {
          this.#head(ARRAY, value.length);
          for (const item of value) this.write(item === undefined ? null : item);
          return;
        }
        if (value instanceof Uint8Array) {
          this.#head(BYTES, value.length);
          this.ensure(value.length);
          this.buffer.set(value, this.pos);
          this.pos += value.length;
          return;
        }
        return this.#map(value as Record<string, unknown>);
      default:
        break;
    }
    this.ensure(1);
    this.buffer[this.pos++] = 0xf6;
  }

  #bigHead(major: number, value: bigint): void {
    this.ensure(9);
    this.buffer[this.pos++] = major | 27;
    this.view.setBigUint64(this.pos, value);
    this.pos += 8;
  }

  #map(value: Record<string, unknown>): void {
    let size = 0;
    for (const key in value) if (value[key] !== undefined) size++;
    this.#head(MAP, size);
    for (const key in value) {
      const item = value[key];
      if (item === undefined) continue;
      this.write(key);
      this.write(item);
    }
  }
}
