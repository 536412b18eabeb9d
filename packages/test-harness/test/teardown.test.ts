import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverFactory, useTeardown, withTeardown } from '../src/index.js';

const log: string[] = [];

describe('useTeardown', () => {
  useTeardown(() => {
    log.push('describe body');
  });

  it('registers with onTestFinished inside a test', () => {
    useTeardown(() => {
      log.push('first');
    });
    useTeardown(async () => {
      await Promise.resolve();
      log.push('second');
    });
    expect(log).toEqual([]);
  });

  it('ran the previous test teardowns in reverse order, after that test', () => {
    expect(log).toEqual(['second', 'first']);
  });
});

describe('useTeardown in beforeAll', () => {
  beforeAll(() => {
    useTeardown(() => {
      log.push('beforeAll');
    });
  });

  it('does not run the beforeAll teardown before the tests', () => {
    expect(log).toEqual(['second', 'first', 'describe body']);
  });
});

// A teardown registered in beforeAll joins the file's afterAll hooks (run last-in, first-out),
// so it has run by the time this earlier-registered file hook runs.
afterAll(() => {
  expect(log).toEqual(['second', 'first', 'describe body', 'beforeAll']);
});

describe('withTeardown and serverFactory', () => {
  const closed: number[] = [];
  const start = serverFactory(async (id: number) => ({ id }), (server) => {
    closed.push(server.id);
  });

  it('resolves the resource and registers its disposal', async () => {
    const server = await withTeardown(Promise.resolve({ id: 1 }), (s) => closed.push(s.id));
    const other = await start(2);
    expect([server.id, other.id]).toEqual([1, 2]);
    expect(closed).toEqual([]);
  });

  it('disposed both after the previous test', () => {
    expect(closed).toEqual([2, 1]);
  });
});
