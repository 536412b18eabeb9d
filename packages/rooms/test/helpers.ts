import { waitFor, type Transport } from '@rt/transport';
import type * as awarenessProtocol from 'y-protocols/awareness';
import * as Y from 'yjs';
import { decodeMessage, type RoomMessage } from '../src/protocol.js';

const WAIT_MS = 10_000;

/** Resolve once `predicate(doc)` holds, re-checking on every document update. */
export function docMatches(doc: Y.Doc, predicate: (doc: Y.Doc) => boolean, what = 'document state'): Promise<void> {
  if (predicate(doc)) return Promise.resolve();
  let check!: () => void;
  const reached = new Promise<void>((resolve) => {
    check = () => {
      if (predicate(doc)) resolve();
    };
    doc.on('update', check);
  });
  return waitFor(reached, { timeoutMs: WAIT_MS, what }).finally(() => doc.off('update', check));
}

/** Resolve once `doc`'s text `name` equals `expected`. */
export function textIs(doc: Y.Doc, expected: string, name = 'text'): Promise<void> {
  return docMatches(doc, (d) => d.getText(name).toString() === expected, `text "${expected}"`);
}

/** Resolve once `predicate` holds for `awareness`, re-checking on every awareness update. */
export function awarenessMatches(
  awareness: awarenessProtocol.Awareness,
  predicate: (states: Map<number, Record<string, unknown>>) => boolean,
  what = 'awareness state',
): Promise<void> {
  if (predicate(awareness.getStates() as Map<number, Record<string, unknown>>)) return Promise.resolve();
  let check!: () => void;
  const reached = new Promise<void>((resolve) => {
    check = () => {
      if (predicate(awareness.getStates() as Map<number, Record<string, unknown>>)) resolve();
    };
    awareness.on('update', check);
  });
  return waitFor(reached, { timeoutMs: WAIT_MS, what }).finally(() => awareness.off('update', check));
}

/** Read the next decoded protocol message from a raw channel. */
export async function nextMessage(channel: Transport): Promise<RoomMessage> {
  const frame = await channel.receive({ timeoutMs: WAIT_MS });
  if (frame === undefined) throw new Error('the channel closed');
  if (typeof frame === 'string') throw new Error('unexpected text frame');
  return decodeMessage(frame);
}

/** Read messages until one of `type` arrives; returns it. */
export async function nextOfType<T extends RoomMessage['type']>(
  channel: Transport,
  type: T,
): Promise<Extract<RoomMessage, { type: T }>> {
  for (;;) {
    const message = await nextMessage(channel);
    if (message.type === type) return message as Extract<RoomMessage, { type: T }>;
  }
}

/** The test documents' content: the `text` text and the `map` map. */
export function docJson(doc: Y.Doc): { text: string; map: Record<string, unknown> } {
  // Key order of a Y.Map's JSON follows arrival order: sort it.
  const map = doc.getMap('map').toJSON();
  return { text: doc.getText('text').toString(), map: Object.fromEntries(Object.entries(map).sort(([a], [b]) => (a < b ? -1 : 1))) };
}

/**
 * A document's encoded state in a canonical form: replayed into a fresh document in one
 * transaction, so structs split differently by different arrival orders merge alike.
 */
export function canonicalState(doc: Y.Doc): Buffer {
  const fresh = new Y.Doc();
  Y.applyUpdate(fresh, Y.encodeStateAsUpdate(doc));
  const state = Buffer.from(Y.encodeStateAsUpdate(fresh));
  fresh.destroy();
  return state;
}

/** Both documents hold the same state: same state vector, same encoded state, same JSON. */
export function expectSameState(a: Y.Doc, b: Y.Doc): { same: boolean; detail: string } {
  const sameVector = Buffer.from(Y.encodeStateVector(a)).equals(Buffer.from(Y.encodeStateVector(b)));
  const sameUpdate = canonicalState(a).equals(canonicalState(b));
  const [jsonA, jsonB] = [JSON.stringify(docJson(a)), JSON.stringify(docJson(b))];
  return { same: sameVector && sameUpdate && jsonA === jsonB, detail: `${jsonA} vs ${jsonB}` };
}

/** Resolve once `emitter` emits `event` with arguments matching `predicate`. */
export function nextEvent<Args extends unknown[]>(
  on: (listener: (...args: Args) => void) => () => void,
  predicate: (...args: Args) => boolean = () => true,
  what = 'event',
): Promise<Args> {
  let off: (() => void) | undefined;
  const seen = new Promise<Args>((resolve) => {
    off = on((...args) => {
      if (predicate(...args)) resolve(args);
    });
  });
  return waitFor(seen, { timeoutMs: WAIT_MS, what }).finally(() => off?.());
}
