import { useTeardown } from '@rt/test-harness';
import { describe, expect, it } from 'vitest';
import { DDPClient, type DDPDocument } from '../src/index.js';
import { DDPServer } from '../src/server/index.js';
import { Table } from './helpers.js';

interface Player extends DDPDocument {
  name: string;
  score: number;
}

/** A real server over WebSocket publishing `players` from a table, with methods that write to it. */
async function playersOnline(rows: Record<string, { name: string; score: number; joined?: Date }>) {
  const table = new Table();
  for (const [id, row] of Object.entries(rows)) table.insert(id, row);
  const server = new DDPServer({ onError: () => undefined });
  server.publish('players', function () {
    table.publishTo(this, 'players');
    this.ready();
  });
  server.methods({
    put(id: string, fields: Record<string, unknown>, unset: string[] = []) {
      // JSON drops `undefined`: fields to remove come as names.
      if (table.rows.has(id)) table.update(id, { ...fields, ...Object.fromEntries(unset.map((key) => [key, undefined])) });
      else table.insert(id, fields);
    },
    drop(id: string) {
      table.remove(id);
    },
  });
  useTeardown(() => server.close());
  const { host, port } = await server.listen({ port: 0 });
  const client = new DDPClient(`ws://${host}:${port}/websocket`, { reconnect: false });
  useTeardown(() => client.disconnect());
  await client.connect();
  await client.subscribe('players').wait();
  const players = client.getCollection<Player>('players');
  /** Run a writing method and wait until its writes are in the client's collection. */
  const write = async (method: string, ...params: unknown[]) => {
    await client.apply(method, params).updated;
  };
  return { players, write };
}

const ROWS = {
  a: { name: 'Ada', score: 30, joined: new Date('2026-01-05T00:00:00Z') },
  b: { name: 'Bob', score: 10, joined: new Date('2026-03-01T00:00:00Z') },
  c: { name: 'Cy', score: 20, joined: new Date('2026-02-01T00:00:00Z') },
  d: { name: 'Di', score: 40, joined: new Date('2026-04-01T00:00:00Z') },
};

describe('Collection.find', () => {
  it('selects, sorts, pages and projects like Minimongo', async () => {
    const { players } = await playersOnline(ROWS);
    const names = (list: readonly Player[]) => list.map((player) => player.name);
    expect(names(players.find({ score: { $gte: 20 } }, { sort: { score: -1 } }).fetch())).toEqual(['Di', 'Ada', 'Cy']);
    expect(names(players.find({}, { sort: { score: 1 }, skip: 1, limit: 2 }).fetch())).toEqual(['Cy', 'Ada']);
    expect(players.find({ name: { $regex: '^[AB]' } }).count()).toBe(2);
    // EJSON dates arrive as Date objects and compare as dates.
    expect(names(players.find({ joined: { $lt: new Date('2026-02-15T00:00:00Z') } }, { sort: { joined: 1 } }).fetch())).toEqual(['Ada', 'Cy']);
    const projected = players.find({ _id: { $in: ['a', 'b'] } }, { fields: { name: 1 }, sort: { name: 1 } }).fetch();
    expect(projected).toEqual([
      { _id: 'a', name: 'Ada' },
      { _id: 'b', name: 'Bob' },
    ]);
    expect(Object.isFrozen(projected[0])).toBe(true);
    expect(players.findOne('c')?.name).toBe('Cy');
    expect(players.findOne({ score: { $gt: 100 } })).toBeUndefined();
    expect(players.findOne({}, { sort: { score: -1 } })?.name).toBe('Di');
    expect(players.find({ score: { $lt: 25 } }, { sort: { score: 1 } }).map((player) => player._id)).toEqual(['b', 'c']);
    expect([...players.find('d')].map((player) => player.score)).toEqual([40]);
  });

  it('refuses unknown operators and bad paging with a clear error', async () => {
    const { players } = await playersOnline(ROWS);
    expect(() => players.find({ score: { $nope: 1 } })).toThrow(/\$nope/);
    expect(() => players.find({}, { limit: -1 })).toThrow(TypeError);
    expect(() => players.find({}, { skip: 1.5 })).toThrow(/skip/);
  });
});

describe('CollectionCursor.observe', () => {
  it('follows documents into, within and out of the result', async () => {
    const { players, write } = await playersOnline(ROWS);
    const seen: string[] = [];
    const handle = players.find({ score: { $gte: 25 } }, { fields: { name: 1, score: 1 } }).observe({
      added: (player) => seen.push(`+${player.name}:${player.score}`),
      changed: (player, previous) => seen.push(`~${previous.name}:${previous.score}>${player.score}`),
      removed: (previous) => seen.push(`-${previous.name}`),
    });
    expect(seen.sort()).toEqual(['+Ada:30', '+Di:40']);
    seen.length = 0;
    await write('put', 'b', { score: 50 }); // enters
    await write('put', 'a', { score: 35 }); // changes inside
    await write('put', 'a', { joined: new Date(0) }); // a field the projection drops: no event
    await write('put', 'd', { score: 5 }); // leaves
    await write('put', 'e', { name: 'Eve', score: 99 }); // added on the server
    await write('drop', 'a'); // removed on the server
    await write('put', 'c', { score: 21 }); // outside, stays outside
    expect(seen).toEqual(['+Bob:50', '~Ada:30>35', '-Di', '+Eve:99', '-Ada']);
    handle.stop();
    await write('put', 'b', { score: 51 });
    expect(seen).toHaveLength(5);
  });

  it('reports field changes with observeChanges, removed fields as undefined', async () => {
    const { players, write } = await playersOnline(ROWS);
    const seen: unknown[] = [];
    const handle = players.find({ score: { $gte: 25 } }, { sort: { score: -1 } }).observeChanges({
      added: (id, fields) => seen.push(['added', id, fields['name'], 'joined' in fields]),
      changed: (id, fields) => seen.push(['changed', id, fields]),
      removed: (id) => seen.push(['removed', id]),
    });
    expect(seen).toEqual([
      ['added', 'd', 'Di', true],
      ['added', 'a', 'Ada', true],
    ]);
    seen.length = 0;
    await write('put', 'a', { score: 31 }, ['joined']);
    await write('put', 'b', { score: 25 });
    await write('drop', 'd');
    expect(seen).toEqual([
      ['changed', 'a', { score: 31, joined: undefined }],
      ['added', 'b', 'Bob', true],
      ['removed', 'd'],
    ]);
    // toEqual ignores undefined properties: check that the removed field is really reported.
    expect(Object.keys((seen[0] as [string, string, object])[2])).toEqual(['score', 'joined']);
    handle.stop();
    expect(() => players.find({}, { fields: { _id: 0, name: 1 } }).observe({})).toThrow(/_id/);
  });

  it('keeps a sorted, limited result current', async () => {
    const { players, write } = await playersOnline(ROWS);
    const top: Map<string, number> = new Map();
    const events: string[] = [];
    players.find({}, { sort: { score: -1 }, limit: 2 }).observe({
      added: (player) => {
        top.set(player._id, player.score);
        events.push(`+${player._id}`);
      },
      changed: (player) => {
        top.set(player._id, player.score);
        events.push(`~${player._id}`);
      },
      removed: (previous) => {
        top.delete(previous._id);
        events.push(`-${previous._id}`);
      },
    });
    expect([...top.keys()].sort()).toEqual(['a', 'd']);
    events.length = 0;
    await write('put', 'b', { score: 45 }); // pushes Ada out of the top two
    expect(Object.fromEntries(top)).toEqual({ d: 40, b: 45 });
    expect(events.sort()).toEqual(['+b', '-a']);
    await write('drop', 'd'); // Ada comes back
    expect(Object.fromEntries(top)).toEqual({ b: 45, a: 30 });
    await write('put', 'b', { score: 46 });
    expect(top.get('b')).toBe(46);
    expect(events.slice(-1)).toEqual(['~b']);
    await write('put', 'c', { score: 1 }); // outside the window: the result does not move
    expect(Object.fromEntries(top)).toEqual({ b: 46, a: 30 });
  });
});
