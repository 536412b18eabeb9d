import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ejson } from '../src/index.js';
import { MergeBox } from '../src/server/merge-box.js';

type Fields = Record<string, unknown>;

const sources = [{ name: 'A' }, { name: 'B' }, { name: 'C' }];
const operation = fc.record({
  source: fc.integer({ min: 0, max: 2 }),
  kind: fc.constantFrom('set', 'remove'),
  id: fc.constantFrom('x', 'y'),
  fields: fc.dictionary(fc.constantFrom('f', 'g', 'h'), fc.oneof(fc.integer({ min: 0, max: 2 }), fc.constant(undefined)), { maxKeys: 3 }),
});

describe('MergeBox', () => {
  it('keeps the client view equal to the union of what the subscriptions publish, with no no-op messages', () => {
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 40 }), (operations) => {
        const client = new Map<string, Fields>();
        const box = new MergeBox(
          {
            added(_collection, id, fields) {
              expect(client.has(id)).toBe(false);
              client.set(id, { ...fields });
            },
            changed(_collection, id, fields, cleared) {
              const document = client.get(id) as Fields;
              expect(Object.keys(fields).length + cleared.length).toBeGreaterThan(0);
              for (const [key, value] of Object.entries(fields)) {
                expect(ejson.equals(document[key], value), `no-op change of ${key}`).toBe(false);
                document[key] = value;
              }
              for (const key of cleared) {
                expect(key in document).toBe(true);
                delete document[key];
              }
            },
            removed(_collection, id) {
              expect(client.delete(id)).toBe(true);
            },
          },
          ejson,
        );
        // What each source publishes: source → id → fields.
        const published = sources.map(() => new Map<string, Fields>());
        for (const op of operations) {
          const source = sources[op.source] as object;
          const mine = published[op.source] as Map<string, Fields>;
          if (op.kind === 'remove') {
            if (!mine.has(op.id)) continue;
            box.removed(source, 'c', op.id);
            mine.delete(op.id);
          } else if (!mine.has(op.id)) {
            const fields = Object.fromEntries(Object.entries(op.fields).filter(([, value]) => value !== undefined));
            box.added(source, 'c', op.id, fields);
            mine.set(op.id, fields);
          } else {
            box.changed(source, 'c', op.id, op.fields);
            const fields = mine.get(op.id) as Fields;
            for (const [key, value] of Object.entries(op.fields)) {
              if (value === undefined) delete fields[key];
              else fields[key] = value;
            }
          }
        }
        for (const id of ['x', 'y']) {
          const publishers = published.filter((map) => map.has(id)).map((map) => map.get(id) as Fields);
          if (publishers.length === 0) {
            expect(client.has(id)).toBe(false);
            continue;
          }
          const document = client.get(id) as Fields;
          const keys = new Set(publishers.flatMap((fields) => Object.keys(fields)));
          expect(new Set(Object.keys(document))).toEqual(keys);
          for (const key of keys) {
            const candidates = publishers.filter((fields) => key in fields).map((fields) => fields[key]);
            expect(candidates).toContainEqual(document[key]);
          }
        }
        expect(box.snapshot().get('c') ?? new Map()).toEqual(client);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses changes and removals of documents a source never added', () => {
    const box = new MergeBox({ added() {}, changed() {}, removed() {} }, ejson);
    const source = {};
    expect(() => box.changed(source, 'c', 'x', { a: 1 })).toThrow(/not added/);
    expect(() => box.removed(source, 'c', 'x')).toThrow(/not added/);
  });
});
