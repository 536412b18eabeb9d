import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ContentLengthFramer,
  LengthPrefixFramer,
  MessageTooLargeError,
  NewlineFramer,
  ProtocolError,
  type Framer,
} from '../src/index.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

interface Decoded {
  frames: string[];
  oversize: MessageTooLargeError[];
}

function decodeAll(framer: Framer, chunks: Uint8Array[]): Decoded {
  const result: Decoded = { frames: [], oversize: [] };
  const sink = {
    onFrame: (frame: Uint8Array) => result.frames.push(decoder.decode(frame)),
    onOversize: (error: MessageTooLargeError) => result.oversize.push(error),
  };
  for (const chunk of chunks) framer.decode(chunk, sink);
  return result;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Split `bytes` at the given cut points. */
function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const point of points) {
    chunks.push(bytes.slice(start, point));
    start = point;
  }
  chunks.push(bytes.slice(start));
  return chunks;
}

const framers: [string, (maxSize?: number) => Framer, fc.Arbitrary<string>][] = [
  ['NewlineFramer', (maxSize) => new NewlineFramer(maxSize === undefined ? {} : { maxSize }), fc.string({ unit: 'grapheme' }).map((s) => s.replace(/[\r\n]/g, ''))],
  ['LengthPrefixFramer', (maxSize) => new LengthPrefixFramer(maxSize === undefined ? {} : { maxSize }), fc.string({ unit: 'grapheme' })],
  ['ContentLengthFramer', (maxSize) => new ContentLengthFramer(maxSize === undefined ? {} : { maxSize }), fc.string({ unit: 'grapheme' })],
];

describe.each(framers)('%s', (_name, create, messageArbitrary) => {
  it('yields the same messages for any split of the byte stream', () => {
    fc.assert(
      fc.property(fc.array(messageArbitrary, { maxLength: 20 }), fc.array(fc.nat(), { maxLength: 30 }), (messages, cuts) => {
        const writer = create();
        const stream = concat(messages.map((message) => writer.encode(encoder.encode(message))));
        const decoded = decodeAll(create(), split(stream, cuts));
        expect(decoded.frames).toEqual(messages);
        expect(decoded.oversize).toEqual([]);
      }),
    );
  });

  it('rejects each oversize message on its own and recovers for the next one', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 40 })), { minLength: 1, maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (specs, cuts) => {
          const maxSize = 20;
          // Messages are made of 'x' so they never contain a delimiter.
          const messages = specs.map(([, length]) => 'x'.repeat(length));
          const writer = create();
          const stream = concat(messages.map((message) => writer.encode(encoder.encode(message))));
          const decoded = decodeAll(create(maxSize), split(stream, cuts));
          expect(decoded.frames).toEqual(messages.filter((message) => message.length <= maxSize));
          expect(decoded.oversize.map((error) => error.limit)).toEqual(
            messages.filter((message) => message.length > maxSize).map(() => maxSize),
          );
        },
      ),
    );
  });

  it('enforces the limit when one chunk carries many messages', () => {
    const writer = create();
    const messages = ['small', 'y'.repeat(100), 'after'];
    const stream = concat(messages.map((message) => writer.encode(encoder.encode(message))));
    const decoded = decodeAll(create(50), [stream]);
    expect(decoded.frames).toEqual(['small', 'after']);
    expect(decoded.oversize).toHaveLength(1);
    expect(decoded.oversize[0]).toBeInstanceOf(MessageTooLargeError);
    expect(decoded.oversize[0]?.size).toBeGreaterThan(50);
  });
});

describe('ContentLengthFramer headers', () => {
  it('accepts extra headers in any case and a Content-Type', () => {
    const stream = encoder.encode('content-type: application/json\r\nCONTENT-LENGTH: 2\r\n\r\n{}');
    expect(decodeAll(new ContentLengthFramer(), [stream]).frames).toEqual(['{}']);
  });

  it('writes the Content-Type header when asked', () => {
    const frame = new ContentLengthFramer({ contentType: 'application/vscode-jsonrpc; charset=utf-8' }).encode(encoder.encode('{}'));
    expect(decoder.decode(frame)).toBe('Content-Length: 2\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n{}');
  });

  it.each([
    ['missing length', 'Content-Type: x\r\n\r\n{}'],
    ['negative length', 'Content-Length: -1\r\n\r\n'],
    ['garbage length', 'Content-Length: 12abc\r\n\r\n'],
    ['a line without colon', 'hello\r\n\r\n'],
  ])('throws ProtocolError on %s', (_case, text) => {
    expect(() => decodeAll(new ContentLengthFramer(), [encoder.encode(text)])).toThrow(ProtocolError);
  });

  it('throws ProtocolError when headers never end', () => {
    expect(() => decodeAll(new ContentLengthFramer(), [encoder.encode('X-Filler: ' + 'a'.repeat(10_000))])).toThrow(
      ProtocolError,
    );
  });
});

describe('NewlineFramer', () => {
  it('drops a trailing carriage return (CRLF line endings)', () => {
    expect(decodeAll(new NewlineFramer(), [encoder.encode('one\r\ntwo\n')]).frames).toEqual(['one', 'two']);
  });

  it('keeps a partial message until its newline arrives', () => {
    const framer = new NewlineFramer();
    expect(decodeAll(framer, [encoder.encode('par')]).frames).toEqual([]);
    expect(decodeAll(framer, [encoder.encode('tial\n')]).frames).toEqual(['partial']);
  });
});
