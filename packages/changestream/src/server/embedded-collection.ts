import { Query, update as applyUpdate } from 'mingo';
import { codeNameOf, ErrorCode } from '../error-codes.js';
import type { Document } from '../types.js';
import { cloneValue, describeUpdate, isPlainObject, valuesEqual } from './documents.js';
import type { EmbeddedStore, PendingChange } from './embedded-store.js';
import { idKey } from './embedded-store.js';
import { newObjectId } from './object-id.js';
import { BulkWriteError, WriteError, type BulkWriteErrorDetail } from './write-error.js';

/** Result of an insert. */
export interface InsertOneResult {
  readonly acknowledged: true;
  readonly insertedId: unknown;
}

/** Result of `insertMany`. */
export interface InsertManyResult {
  readonly acknowledged: true;
  readonly insertedCount: number;
  readonly insertedIds: Record<number, unknown>;
}

/** Options of `insertMany`. */
export interface InsertManyOptions {
  /** Stop at the first refused document (default true); false inserts every other document. */
  ordered?: boolean;
}

/** Result of an update or replace. */
export interface UpdateResult {
  readonly acknowledged: true;
  readonly matchedCount: number;
  readonly modifiedCount: number;
  readonly upsertedCount: number;
  readonly upsertedId: unknown;
}

/** Result of a delete. */
export interface DeleteResult {
  readonly acknowledged: true;
  readonly deletedCount: number;
}

/** Options of `updateOne` and `replaceOne`. */
export interface UpdateOptions {
  /** Insert a document when none matches. */
  upsert?: boolean;
}

const UPDATE_OPERATORS = new Set(['$set', '$unset', '$inc', '$mul', '$min', '$max', '$rename', '$push', '$pull', '$pullAll', '$addToSet', '$pop', '$currentDate', '$bit']);

function badValue(message: string): WriteError {
  return new WriteError(ErrorCode.BadValue, message);
}

function checkDocument(document: unknown): asserts document is Document {
  if (!isPlainObject(document)) throw badValue('a document must be an object');
}

/** Fields a filter pins by equality (used to seed an upserted document). */
function equalityFields(filter: Document): Document {
  const seed: Document = {};
  for (const [key, value] of Object.entries(filter)) {
    if (key.startsWith('$') || key.includes('.')) continue;
    if (isPlainObject(value) && Object.keys(value).some((name) => name.startsWith('$'))) continue;
    seed[key] = cloneValue(value);
  }
  return seed;
}

/** A database of an `EmbeddedStore`. */
export class EmbeddedDb {
  readonly #store: EmbeddedStore;
  /** The database name. */
  readonly databaseName: string;

  constructor(store: EmbeddedStore, name: string) {
    if (name === '' || name.includes('.') || name.includes('\u0000')) throw badValue(`invalid database name ${JSON.stringify(name)}`);
    this.#store = store;
    this.databaseName = name;
  }

  /** A collection handle. */
  collection<TSchema extends Document = Document>(name: string): EmbeddedCollection<TSchema> {
    return new EmbeddedCollection<TSchema>(this.#store, this.databaseName, name);
  }

  /** Names of collections that exist. */
  listCollectionNames(): string[] {
    return this.#store.collectionNames(this.databaseName);
  }

  /** Drop the database: every stream on it (and its collections) is invalidated. */
  async dropDatabase(): Promise<void> {
    await this.#store.record([{ operationType: 'dropDatabase', ns: { db: this.databaseName } }]);
  }
}

/**
 * A collection of an `EmbeddedStore`, with MongoDB's write methods (filters and update
 * operators evaluated by mingo). Every write is durable before its promise resolves.
 */
export class EmbeddedCollection<TSchema extends Document = Document> {
  readonly #store: EmbeddedStore;
  /** The database name. */
  readonly dbName: string;
  /** The collection name. */
  readonly collectionName: string;

  constructor(store: EmbeddedStore, db: string, name: string) {
    if (name === '' || name.startsWith('$') || name.includes('\u0000')) throw badValue(`invalid collection name ${JSON.stringify(name)}`);
    this.#store = store;
    this.dbName = db;
    this.collectionName = name;
  }

  /** Insert one document (an `_id` is generated when missing). Duplicate `_id`: code 11000. */
  async insertOne(document: TSchema): Promise<InsertOneResult> {
    const { ids, errors } = await this.#insert([document], true);
    const refused = errors[0];
    if (refused) throw new WriteError(refused.code, refused.errmsg);
    return { acknowledged: true, insertedId: ids[0] };
  }

  /**
   * Insert documents as MongoDB does. Ordered (the default): documents are inserted in turn
   * until the first refusal (a duplicate `_id`, code 11000); those before it stay inserted.
   * Unordered: every document that can be inserted is. Either way, a refusal rejects with a
   * `BulkWriteError` carrying `writeErrors`, `insertedCount` and `insertedIds`. A value that is
   * not a document refuses the whole batch before anything is written.
   */
  async insertMany(documents: readonly TSchema[], options: InsertManyOptions = {}): Promise<InsertManyResult> {
    const { ids, errors } = await this.#insert(documents, options.ordered ?? true);
    if (errors.length > 0) throw new BulkWriteError(errors, ids);
    return { acknowledged: true, insertedCount: Object.keys(ids).length, insertedIds: ids };
  }

  async #insert(documents: readonly TSchema[], ordered: boolean): Promise<{ ids: Record<number, unknown>; errors: BulkWriteErrorDetail[] }> {
    for (const document of documents) checkDocument(document);
    const existing = this.#store.collection(this.dbName, this.collectionName);
    const seen = new Set<string>();
    const ids: Record<number, unknown> = {};
    const errors: BulkWriteErrorDetail[] = [];
    const changes: PendingChange[] = [];
    for (const [index, document] of documents.entries()) {
      let copy = cloneValue(document) as Document;
      if (copy['_id'] === undefined) copy = { _id: newObjectId(), ...copy };
      const key = idKey(copy['_id']);
      if (seen.has(key) || existing?.has(key)) {
        const errmsg = `E11000 duplicate key error collection: ${this.dbName}.${this.collectionName} index: _id_ dup key: { _id: ${key} }`;
        errors.push({ index, code: ErrorCode.DuplicateKey, codeName: codeNameOf(ErrorCode.DuplicateKey), errmsg });
        if (ordered) break;
        continue;
      }
      seen.add(key);
      ids[index] = copy['_id'];
      changes.push({ operationType: 'insert', ns: this.#ns(), documentKey: { _id: copy['_id'] }, fullDocument: copy });
    }
    if (!existing && changes.length > 0) changes.unshift({ operationType: 'create', ns: this.#ns() });
    if (changes.length > 0) await this.#store.record(changes);
    return { ids, errors };
  }

  /** Apply update operators to the first matching document. */
  async updateOne(filter: Document, update: Document, options: UpdateOptions = {}): Promise<UpdateResult> {
    checkDocument(update);
    const names = Object.keys(update);
    if (names.length === 0 || !names.every((name) => UPDATE_OPERATORS.has(name))) {
      throw new WriteError(ErrorCode.FailedToParse, 'the update document must contain only update operators ($set, $inc, ...)');
    }
    const before = this.#findFirst(filter);
    const after = cloneValue(before ?? equalityFields(filter));
    try {
      applyUpdate(after, update);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new WriteError(/immutable/i.test(message) ? ErrorCode.ImmutableField : ErrorCode.BadValue, message);
    }
    if (!before) {
      if (!options.upsert) return { acknowledged: true, matchedCount: 0, modifiedCount: 0, upsertedCount: 0, upsertedId: null };
      const { insertedId } = await this.insertOne(after as TSchema);
      return { acknowledged: true, matchedCount: 0, modifiedCount: 0, upsertedCount: 1, upsertedId: insertedId };
    }
    if (!valuesEqual(before['_id'], after['_id'])) throw new WriteError(ErrorCode.ImmutableField, "Performing an update on the path '_id' would modify the immutable field '_id'");
    if (valuesEqual(before, after)) return { acknowledged: true, matchedCount: 1, modifiedCount: 0, upsertedCount: 0, upsertedId: null };
    await this.#store.record([
      {
        operationType: 'update',
        ns: this.#ns(),
        documentKey: { _id: before['_id'] },
        updateDescription: describeUpdate(before, after),
        fullDocument: after,
        fullDocumentBeforeChange: before,
      },
    ]);
    return { acknowledged: true, matchedCount: 1, modifiedCount: 1, upsertedCount: 0, upsertedId: null };
  }

  /** Replace the first matching document (its `_id` is kept). */
  async replaceOne(filter: Document, replacement: TSchema, options: UpdateOptions = {}): Promise<UpdateResult> {
    checkDocument(replacement);
    if (Object.keys(replacement).some((name) => name.startsWith('$'))) {
      throw new WriteError(ErrorCode.BadValue, 'a replacement document must not contain update operators');
    }
    const before = this.#findFirst(filter);
    if (!before) {
      if (!options.upsert) return { acknowledged: true, matchedCount: 0, modifiedCount: 0, upsertedCount: 0, upsertedId: null };
      const { insertedId } = await this.insertOne({ ...equalityFields(filter), ...replacement } as TSchema);
      return { acknowledged: true, matchedCount: 0, modifiedCount: 0, upsertedCount: 1, upsertedId: insertedId };
    }
    if (replacement['_id'] !== undefined && !valuesEqual(replacement['_id'], before['_id'])) {
      throw new WriteError(ErrorCode.ImmutableField, "the replacement would modify the immutable field '_id'");
    }
    const after: Document = { _id: before['_id'], ...cloneValue(replacement) };
    await this.#store.record([
      { operationType: 'replace', ns: this.#ns(), documentKey: { _id: before['_id'] }, fullDocument: after, fullDocumentBeforeChange: before },
    ]);
    return { acknowledged: true, matchedCount: 1, modifiedCount: 1, upsertedCount: 0, upsertedId: null };
  }

  /** Delete the first matching document. */
  async deleteOne(filter: Document): Promise<DeleteResult> {
    const before = this.#findFirst(filter);
    if (!before) return { acknowledged: true, deletedCount: 0 };
    await this.#store.record([
      { operationType: 'delete', ns: this.#ns(), documentKey: { _id: before['_id'] }, fullDocumentBeforeChange: before },
    ]);
    return { acknowledged: true, deletedCount: 1 };
  }

  /** Drop the collection: streams on it get `drop`, then `invalidate`. */
  async drop(): Promise<boolean> {
    if (!this.#store.collection(this.dbName, this.collectionName)) return false;
    await this.#store.record([{ operationType: 'drop', ns: this.#ns() }]);
    return true;
  }

  /**
   * Rename the collection within its database: streams on it get `rename` (with `to`), then
   * `invalidate`. Refused with NamespaceExists (48) when the target holds documents.
   */
  async rename(newName: string): Promise<EmbeddedCollection<TSchema>> {
    const target = new EmbeddedCollection<TSchema>(this.#store, this.dbName, newName);
    if (!this.#store.collection(this.dbName, this.collectionName)) {
      throw new WriteError(ErrorCode.NamespaceNotFound, `source namespace ${this.dbName}.${this.collectionName} does not exist`);
    }
    if (this.#store.collection(this.dbName, newName)) throw new WriteError(ErrorCode.NamespaceExists, `target namespace ${this.dbName}.${newName} exists`);
    await this.#store.record([{ operationType: 'rename', ns: this.#ns(), to: { db: this.dbName, coll: newName } }]);
    return target;
  }

  /** Matching documents (copies). */
  find(filter: Document = {}): TSchema[] {
    const documents = this.#store.collection(this.dbName, this.collectionName);
    if (!documents) return [];
    const query = this.#query(filter);
    return [...documents.values()].filter((document) => query.test(document)).map((document) => cloneValue(document) as TSchema);
  }

  /** The first matching document (a copy), or null. */
  findOne(filter: Document = {}): TSchema | null {
    const found = this.#findFirst(filter);
    return found ? (cloneValue(found) as TSchema) : null;
  }

  /** Number of matching documents. */
  countDocuments(filter: Document = {}): number {
    const documents = this.#store.collection(this.dbName, this.collectionName);
    if (!documents) return 0;
    const query = this.#query(filter);
    let count = 0;
    for (const document of documents.values()) if (query.test(document)) count += 1;
    return count;
  }

  #ns(): { db: string; coll: string } {
    return { db: this.dbName, coll: this.collectionName };
  }

  #query(filter: Document): Query {
    checkDocument(filter);
    try {
      return new Query(filter);
    } catch (error) {
      throw badValue(error instanceof Error ? error.message : String(error));
    }
  }

  #findFirst(filter: Document): Document | undefined {
    const documents = this.#store.collection(this.dbName, this.collectionName);
    if (!documents) return undefined;
    const id = filter['_id'];
    if (id !== undefined && Object.keys(filter).length === 1 && !isPlainObject(id)) return documents.get(idKey(id));
    const query = this.#query(filter);
    try {
      for (const document of documents.values()) if (query.test(document)) return document;
    } catch (error) {
      throw badValue(error instanceof Error ? error.message : String(error));
    }
    return undefined;
  }
}
