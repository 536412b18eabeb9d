import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasCommand, peerAvailable, POSTGRES_BIN_DIR, startPostgres, withTeardown } from '../src/index.js';
import { connectUntilClosed } from './support/raw-socket.js';

const available = await peerAvailable('PostgreSQL 15 (Debian postgresql-15)', hasCommand(join(POSTGRES_BIN_DIR, 'initdb')));

describe.skipIf(!available)('startPostgres', () => {
  it('starts a throwaway server with logical WAL, answers psql, and stops cleanly', async () => {
    const pg = await withTeardown(startPostgres(), (s) => s.stop());
    expect(pg.host).toBe('127.0.0.1');
    expect(pg.user).toBe('postgres');
    expect(pg.database).toBe('postgres');
    expect(pg.connectionString).toBe(`postgres://postgres@127.0.0.1:${pg.port}/postgres`);

    expect(await pg.psql('show wal_level')).toBe('logical');
    expect(await pg.psql('show server_version')).toMatch(/^15\./);
    await pg.psql('create table rt_items (id int primary key, name text)');
    await pg.psql("insert into rt_items values (1, 'one'), (2, 'two')");
    expect(await pg.psql('select name from rt_items order by id')).toBe('one\ntwo');
    await expect(pg.psql('select * from no_such_table')).rejects.toThrow(/no_such_table/);

    const slot = await pg.psql("select slot_name from pg_create_logical_replication_slot('rt_slot', 'pgoutput')");
    expect(slot).toBe('rt_slot');

    expect(existsSync(join(pg.dir, 'data'))).toBe(true);
    await pg.stop();
    expect(existsSync(pg.dir)).toBe(false);
    expect(await connectUntilClosed(pg.port)).toMatchObject({ code: 'ECONNREFUSED' });
  });
});
