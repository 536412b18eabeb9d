import { ProtocolError } from '@rt/transport';
import fc from 'fast-check';
import * as encoding from 'lib0/encoding';
import { describe, expect, it } from 'vitest';
import * as awarenessProtocol from 'y-protocols/awareness';
import * as Y from 'yjs';
import {
  decodeAwarenessUpdate,
  decodeMessage,
  EMPTY_AWARENESS_MESSAGE,
  encodeAwareness,
  encodeAwarenessEntries,
  encodeMessage,
  encodePermissionDenied,
  encodeQueryAwareness,
  encodeSyncStep1,
  encodeSyncStep2,
  encodeUpdate,
  type RoomMessage,
} from '../src/protocol.js';

const bytes = fc.uint8Array({ maxLength: 64 });
const anyMessage: fc.Arbitrary<RoomMessage> = fc.oneof(
  bytes.map((stateVector) => ({ type: 'sync-step1' as const, stateVector })),
  bytes.map((update) => ({ type: 'sync-step2' as const, update })),
  bytes.map((update) => ({ type: 'update' as const, update })),
  bytes.map((update) => ({ type: 'awareness' as const, update })),
  fc.constant({ type: 'query-awareness' as const }),
  fc.string().map((reason) => ({ type: 'permission-denied' as const, reason })),
);

describe('protocol messages', () => {
  it('encodes the y-websocket layout byte for byte', () => {
    const doc = new Y.Doc();
    doc.getText('t').insert(0, 'hi');
    const step1 = encodeSyncStep1(doc);
    expect([...step1.subarray(0, 2)]).toEqual([0, 0]);
    expect(decodeMessage(step1)).toEqual({ type: 'sync-step1', stateVector: Y.encodeStateVector(doc) });
    const step2 = decodeMessage(encodeSyncStep2(doc));
    expect(step2.type).toBe('sync-step2');
    expect([...encodeUpdate(Uint8Array.of(7, 8))]).toEqual([0, 2, 2, 7, 8]);
    expect([...encodeQueryAwareness()]).toEqual([3]);
    expect([...EMPTY_AWARENESS_MESSAGE]).toEqual([1, 1, 0]);
    expect(decodeMessage(encodePermissionDenied('nope'))).toEqual({ type: 'permission-denied', reason: 'nope' });
  });

  it('round-trips every message', () => {
    fc.assert(
      fc.property(anyMessage, (message) => {
        expect(decodeMessage(encodeMessage(message))).toEqual(message);
      }),
    );
  });

  it('throws ProtocolError (never anything else) on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (frame) => {
        try {
          decodeMessage(frame);
        } catch (error) {
          expect(error).toBeInstanceOf(ProtocolError);
        }
      }),
    );
  });

  it('rejects every truncation of a valid message and any trailing byte', () => {
    fc.assert(
      fc.property(anyMessage, fc.integer({ min: 0, max: 255 }), (message, extra) => {
        const frame = encodeMessage(message);
        for (let cut = 0; cut < frame.length; cut++) {
          expect(() => decodeMessage(frame.subarray(0, cut))).toThrow(ProtocolError);
        }
        expect(() => decodeMessage(Uint8Array.of(...frame, extra))).toThrow(/trailing/);
      }),
    );
  });

  it('names the problem: unknown types, bad varints, lengths past the end', () => {
    expect(() => decodeMessage(Uint8Array.of(9))).toThrow('unknown message type 9');
    expect(() => decodeMessage(Uint8Array.of(0, 5, 0))).toThrow('unknown sync message type 5');
    expect(() => decodeMessage(Uint8Array.of(2, 1))).toThrow('unknown auth message type 1');
    expect(() => decodeMessage(Uint8Array.of(0x80, 0x80))).toThrow(/bad varint.*truncated/);
    expect(() => decodeMessage(Uint8Array.of(...new Array<number>(9).fill(0xff), 0x7f))).toThrow(/out of range/);
    expect(() => decodeMessage(Uint8Array.of(0, 2, 50, 1, 2))).toThrow('claims 50 bytes but only 2 remain');
    expect(() => decodeMessage(Uint8Array.of(2, 0, 2, 0xc3, 0x28))).toThrow('not valid UTF-8');
    expect(() => decodeMessage('text' as unknown as Uint8Array)).toThrow();
  });

  it('does not read past a frame that is a view into a larger buffer', () => {
    const backing = Uint8Array.of(0, 2, 4, 1, 2, 3, 4, 5, 6);
    expect(() => decodeMessage(backing.subarray(0, 5))).toThrow(ProtocolError);
  });
});

describe('awareness updates', () => {
  it('decodes what y-protocols encodes', () => {
    const doc = new Y.Doc();
    const awareness = new awarenessProtocol.Awareness(doc);
    awareness.setLocalState({ user: 'ada', cursor: 3 });
    const message = decodeMessage(encodeAwareness(awareness));
    expect(message.type).toBe('awareness');
    const entries = decodeAwarenessUpdate((message as { update: Uint8Array }).update);
    expect(entries).toEqual([{ clientId: doc.clientID, clock: 1, state: { user: 'ada', cursor: 3 } }]);
    awareness.destroy();
  });

  it('refuses state that is not JSON, and trailing bytes', () => {
    const encoder = encoding.createEncoder();
    encoding.writeVarUint(encoder, 1);
    encoding.writeVarUint(encoder, 42);
    encoding.writeVarUint(encoder, 1);
    encoding.writeVarString(encoder, '{not json');
    expect(() => decodeAwarenessUpdate(encoding.toUint8Array(encoder))).toThrow('awareness state of client 42 is not JSON');
    expect(() => decodeAwarenessUpdate(Uint8Array.of(0, 0))).toThrow(/trailing/);
    expect(decodeAwarenessUpdate(Uint8Array.of(0))).toEqual([]);
  });

  it('encodes entries as y-protocols does, and decodes them back', () => {
    const doc = new Y.Doc();
    const awareness = new awarenessProtocol.Awareness(doc);
    awareness.setLocalState({ user: 'ada', cursor: 3 });
    const entries = decodeAwarenessUpdate(awarenessProtocol.encodeAwarenessUpdate(awareness, [doc.clientID]));
    expect(encodeAwarenessEntries(entries)).toEqual(awarenessProtocol.encodeAwarenessUpdate(awareness, [doc.clientID]));
    awareness.destroy();
    const entry = fc.record({
      clientId: fc.nat(),
      clock: fc.nat(),
      state: fc.oneof(fc.constant(null), fc.jsonValue()),
    });
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 5 }), (generated) => {
        // JSON has no -0 and no undefined: compare with what a JSON round trip keeps.
        expect(decodeAwarenessUpdate(encodeAwarenessEntries(generated))).toEqual(JSON.parse(JSON.stringify(generated)));
      }),
    );
  });

  it('throws only ProtocolError on arbitrary awareness bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (update) => {
        try {
          decodeAwarenessUpdate(update);
        } catch (error) {
          expect(error).toBeInstanceOf(ProtocolError);
        }
      }),
    );
  });
});
