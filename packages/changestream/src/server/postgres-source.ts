import { join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import type pg from 'pg';
import type { Pgoutput } from 'pg-logical-replication';
import { makeTokenData } from '../token.js';
import type { Document, Namespace, Timestamp } from '../types.js';
import { describeUpdate } from './documents.js';
import { ChangeLog } from './change-log.js';
import { DurableLog } from './durable-log.js';
import { DEFAULT_COMPACT_AFTER_BYTES, DEFAULT_STORE_RETENTION, type RetentionPolicy } from './retention.js';
import { decodeStored, encodeStored } from './record-codec.js';
import type { ChangeRecord, ChangeSink, ChangeSource, SourceAttachment } from './source.js';

/** Options of a `PostgresSource`. */
export interface PostgresSourceOptions {
  /** `postgres://user@host:port/database`. */
  connectionString: string;
  /** Logical replication slot of this gateway (created with `pgoutput` when missing). */
  slot: string;
  /** Publication to stream (created when missing). */
  publication: string;
  /** Tables of a new publication (default: all tables). */
  tables?: readonly string[];
  /** Database name in change namespaces (default: the connection's database). */
  database?: string;
  /**
   * Directory for a durable copy of the retained log. With it, a restarted gateway serves its
   * whole history; without it, tokens older than the slot's confirmed position get 286.
   */
  directory?: string;
  /**
   * How much history the durable copy keeps (default `DEFAULT_STORE_RETENTION`: 100 000
   * changes, 64 MiB); older tokens get 286 from a restarted gateway.
   */
  retention?: RetentionPolicy;
  /**
   * Compact the durable copy once it has grown by this many bytes, and by at least its
   * compacted size (default `DEFAULT_COMPACT_AFTER_BYTES`, 16 MiB).
   */
  compactAfterBytes?: number;
}

/** First record of a durable copy: where its history starts. */
interface DurableHeader {
  readonly origin: string;
  readonly originTime?: Timestamp;
}

type Relation = Pgoutput.MessageRelation;

interface OpenTransaction {
  readonly lsn: bigint;
  readonly commitMicros: bigint;
  readonly records: ChangeRecord[];
}

/** `X/Y` (hexadecimal halves) to a 64-bit position. */
export function parseLsn(lsn: string): bigint {
  const [high = '0', low = '0'] = lsn.split('/');
  return (BigInt('0x' + high) << 32n) | BigInt('0x' + low);
}

function formatLsn(lsn: bigint): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}

function quoteIdent(name: string): string {
  return '"' + name.replaceAll('"', '""') + '"';
}

/** The position just before every change of a transaction committed at or after `lsn`. */
function originBefore(lsn: bigint): string {
  return lsn === 0n ? makeTokenData(0n, 0) : makeTokenData(lsn - 1n, 0xffffffff, 0xff);
}

function collectionName(relation: Relation): string {
  return relation.schema === 'public' ? relation.name : `${relation.schema}.${relation.name}`;
}

function documentKey(keys: readonly string[], row: Document): Document {
  if (keys.length === 1) return { _id: row[keys[0] as string] };
  return { _id: Object.fromEntries(keys.map((key) => [key, row[key]])) };
}

/**
 * A change source over PostgreSQL logical replication (`pgoutput`). Each change's token comes
 * from its transaction's commit LSN and its index in the transaction, so every gateway reading
 * the same database serves the same tokens. A transaction is acknowledged to PostgreSQL only
 * once it is in the retained log (on disk, with `directory`). Pre-images need
 * `REPLICA IDENTITY FULL` on the table.
 */
export class PostgresSource implements ChangeSource {
  readonly #options: PostgresSourceOptions;
  readonly #relations = new Map<string, { relation: Relation; keys: readonly string[] }>();
  readonly #primaryKeys = new Map<number, readonly string[]>();
  #admin: pg.Client | undefined;

  constructor(options: PostgresSourceOptions) {
    this.#options = options;
  }

  async attach(sink: ChangeSink): Promise<SourceAttachment> {
    const options = this.#options;
    // Loaded on first use, so the server entry does not load database drivers it does not need.
    const { default: postgres } = await import('pg');
    const { LogicalReplicationService, PgoutputPlugin } = await import('pg-logical-replication');
    const admin = new postgres.Client({ connectionString: options.connectionString });
    await admin.connect();
    this.#admin = admin;
    const database = options.database ?? ((await admin.query<{ db: string }>('SELECT current_database() AS db')).rows[0]?.db as string);
    const confirmed = await this.#prepare(admin);
    let origin = originBefore(confirmed);
    let originTime: Timestamp | undefined;
    let durable: DurableLog | undefined;
    // The durable copy's retained history, which its compactions keep.
    const retained = new ChangeLog({ ...DEFAULT_STORE_RETENTION, ...options.retention });
    const compactAfterBytes = options.compactAfterBytes ?? DEFAULT_COMPACT_AFTER_BYTES;
    let compactedSize = 0;
    if (options.directory !== undefined) {
      await mkdir(options.directory, { recursive: true });
      const opened = await DurableLog.open(join(options.directory, `${options.slot}.log`));
      durable = opened.log;
      const [head, ...rest] = opened.payloads.map(decodeStored);
      if (head === undefined) await durable.append([encodeStored({ origin })]);
      const header = (head as DurableHeader | undefined) ?? { origin };
      retained.setOrigin(header.origin, header.originTime);
      retained.append(rest as ChangeRecord[]);
      origin = retained.origin;
      originTime = retained.originTime;
      compactedSize = durable.size;
      sink.append(retained.records());
    }
    const compact = (log: DurableLog): void => {
      const grown = log.size - compactedSize;
      if (grown < compactAfterBytes || grown < compactedSize) return;
      const header: DurableHeader = { origin: retained.origin, ...(retained.originTime === undefined ? {} : { originTime: retained.originTime }) };
      const records = retained.records();
      compactedSize = Infinity;
      log
        .rewrite(function* () {
          yield encodeStored(header as unknown as Record<string, unknown>);
          for (const record of records) yield encodeStored(record);
        })
        .then(
          () => (compactedSize = log.size),
          // The old file stays in use; try again after the next transaction.
          () => (compactedSize = 0),
        );
    };
    const service = new LogicalReplicationService(
      { connectionString: options.connectionString },
      { acknowledge: { auto: false, timeoutSeconds: 0 }, flowControl: { enabled: true } },
    );
    let acknowledged = formatLsn(confirmed);
    let transaction: OpenTransaction | undefined;
    service.on('data', async (_lsn: string, message: Pgoutput.Message) => {
      switch (message.tag) {
        case 'begin':
          transaction = { lsn: parseLsn(message.commitLsn ?? '0/0'), commitMicros: BigInt(message.commitTime as bigint), records: [] };
          break;
        case 'insert':
        case 'update':
        case 'delete':
          if (transaction) transaction.records.push(this.#record(database, transaction, message, await this.#keyColumns(admin, message.relation)));
          break;
        case 'commit': {
          const records = transaction?.records ?? [];
          transaction = undefined;
          if (records.length > 0) {
            if (durable) {
              await durable.append(records.map(encodeStored));
              retained.append(records);
              compact(durable);
            }
            sink.append(records);
          }
          acknowledged = message.commitEndLsn ?? acknowledged;
          await service.acknowledge(acknowledged);
          break;
        }
      }
    });
    service.on('heartbeat', async (_lsn: string, _time: number, shouldRespond: boolean) => {
      if (shouldRespond) await service.acknowledge(acknowledged);
    });
    service.on('error', () => undefined);
    const plugin = new PgoutputPlugin({ protoVersion: 1, publicationNames: [options.publication] });
    let stopped = false;
    const started = new Promise<void>((resolve) => service.once('start', () => resolve()));
    const first = service.subscribe(plugin, options.slot);
    // Once streaming, a lost replication connection is re-opened; the slot replays from the
    // last acknowledged transaction and the log drops what it already holds.
    const streaming = (async () => {
      await first.catch(() => undefined);
      while (!stopped) {
        transaction = undefined;
        await new Promise((resolve) => setTimeout(resolve, 500));
        if (stopped) return;
        await service.subscribe(plugin, options.slot).catch(() => undefined);
      }
    })();
    await Promise.race([
      started,
      first.then(() => {
        throw new Error(`replication on slot ${options.slot} ended before it started`);
      }),
    ]).catch(async (error: unknown) => {
      stopped = true;
      await service.destroy();
      await durable?.close();
      await admin.end();
      throw error;
    });
    return {
      origin,
      ...(originTime === undefined ? {} : { originTime }),
      close: async () => {
        stopped = true;
        await service.destroy();
        await streaming;
        await durable?.close();
        await admin.end();
        this.#admin = undefined;
      },
    };
  }

  async lookup(ns: Namespace, key: Document): Promise<Document | null> {
    const known = ns.coll === undefined ? undefined : this.#relations.get(ns.coll);
    const admin = this.#admin;
    if (!known || !admin || known.keys.length === 0) return null;
    const { relation, keys } = known;
    const id = key['_id'];
    const values = keys.length === 1 ? [id] : keys.map((column) => (id as Document)[column]);
    const where = keys.map((column, index) => `${quoteIdent(column)} = $${index + 1}`).join(' AND ');
    const result = await admin.query(`SELECT * FROM ${quoteIdent(relation.schema)}.${quoteIdent(relation.name)} WHERE ${where} LIMIT 1`, values);
    return (result.rows[0] as Document | undefined) ?? null;
  }

  /** Make sure the publication and the slot exist; resolve the slot's confirmed position. */
  async #prepare(admin: pg.Client): Promise<bigint> {
    const { publication, slot, tables } = this.#options;
    const existing = await admin.query('SELECT 1 FROM pg_publication WHERE pubname = $1', [publication]);
    if (existing.rowCount === 0) {
      const target = tables && tables.length > 0 ? `TABLE ${tables.map((table) => table.split('.').map(quoteIdent).join('.')).join(', ')}` : 'ALL TABLES';
      await admin.query(`CREATE PUBLICATION ${quoteIdent(publication)} FOR ${target}`);
    }
    const slots = await admin.query<{ lsn: string | null }>('SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1', [slot]);
    const found = slots.rows[0];
    if (found) return parseLsn(found.lsn ?? '0/0');
    const created = await admin.query<{ lsn: string }>("SELECT lsn::text AS lsn FROM pg_create_logical_replication_slot($1, 'pgoutput')", [slot]);
    return parseLsn(created.rows[0]?.lsn ?? '0/0');
  }

  /** The primary key columns of a table (with REPLICA IDENTITY FULL, pgoutput marks every column). */
  async #keyColumns(admin: pg.Client, relation: Relation): Promise<readonly string[]> {
    const cached = this.#primaryKeys.get(relation.relationOid);
    if (cached) return cached;
    const result = await admin.query<{ name: string }>(
      'SELECT a.attname AS name FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) ' +
        'WHERE i.indrelid = $1 AND i.indisprimary ORDER BY array_position(i.indkey, a.attnum)',
      [relation.relationOid],
    );
    const primary = result.rows.map((row) => row.name);
    const keys = primary.length > 0 ? primary : relation.keyColumns.length > 0 ? relation.keyColumns : relation.columns.map((column) => column.name);
    this.#primaryKeys.set(relation.relationOid, keys);
    return keys;
  }

  #record(
    database: string,
    transaction: OpenTransaction,
    message: Pgoutput.MessageInsert | Pgoutput.MessageUpdate | Pgoutput.MessageDelete,
    keys: readonly string[],
  ): ChangeRecord {
    const relation = message.relation;
    const coll = collectionName(relation);
    this.#relations.set(coll, { relation, keys });
    const index = transaction.records.length;
    const base = {
      token: makeTokenData(transaction.lsn, index),
      // Every change of a transaction shares its cluster time, as in MongoDB.
      clusterTime: { t: Number(transaction.commitMicros / 1_000_000n), i: Number(transaction.lsn & 0xffffffffn) },
      wallTime: new Date(Number(transaction.commitMicros / 1000n)),
      ns: { db: database, coll },
    };
    if (message.tag === 'insert') {
      return { ...base, operationType: 'insert', documentKey: documentKey(keys, message.new), fullDocument: message.new };
    }
    if (message.tag === 'update') {
      const before = relation.replicaIdentity === 'full' ? message.old : null;
      const keySet = new Set(keys);
      const updateDescription = before
        ? describeUpdate(before, message.new)
        : { updatedFields: Object.fromEntries(Object.entries(message.new).filter(([name]) => !keySet.has(name))), removedFields: [], truncatedArrays: [] };
      return {
        ...base,
        operationType: 'update',
        documentKey: documentKey(keys, message.new),
        updateDescription,
        fullDocument: message.new,
        fullDocumentBeforeChange: before,
      };
    }
    const old = message.old ?? message.key ?? {};
    return {
      ...base,
      operationType: 'delete',
      documentKey: documentKey(keys, old),
      fullDocumentBeforeChange: relation.replicaIdentity === 'full' ? message.old : null,
    };
  }
}
