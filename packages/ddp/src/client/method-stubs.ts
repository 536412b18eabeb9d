import { RtError } from '@rt/transport';
import type { DocumentFields } from '../document-diff.js';
import type { EJSON, EJSONValue } from '../ejson.js';
import { hasOwn, setOwn } from '../own.js';
import { randomId } from '../random-id.js';
import type { Collection, DDPDocument } from './collection.js';
import { methodPromise, type ApplyOptions, type MethodPromise, type PendingMethod } from './method-queue.js';
import type { StubDocuments } from './stub-documents.js';

/** A collection write attempted outside a method stub's simulation. */
export class SimulationError extends RtError {
  constructor(message: string) {
    super('ERR_DDP_SIMULATION', message);
  }
}

/** A document to insert from a stub: `_id` is optional (a random id is made without it). */
export type StubInsert = { _id?: string } & Record<string, unknown>;

/**
 * The writable view of a client collection a method stub gets from `this.collection(name)`.
 * Writes show in the collection at once (with the usual events) and are replaced by the
 * server's version once the call is done. Usable only while the stub runs.
 */
export class StubCollection<T extends DDPDocument = DDPDocument> {
  readonly #collection: Collection<T>;
  readonly #invocation: StubInvocation;

  /** Made by `MethodStubContext.collection`. */
  constructor(collection: Collection<T>, invocation: StubInvocation) {
    this.#collection = collection;
    this.#invocation = invocation;
  }

  /** The collection's name. */
  get name(): string {
    return this.#collection.name;
  }

  /** The visible document `id`, if any. */
  get(id: string): T | undefined {
    return this.#collection.get(id);
  }

  /** Insert a document; returns its `_id`. Throws when a document with that id is present. */
  insert(document: StubInsert): string {
    this.#invocation.assertActive(`insert into '${this.name}'`);
    const id = document._id ?? randomId();
    if (typeof id !== 'string' || id === '') throw new TypeError('a document _id must be a non-empty string');
    if (this.#collection.has(id)) throw new Error(`'${this.name}' already has a document '${id}'`);
    const fields: DocumentFields = {};
    for (const key of Object.keys(document)) if (key !== '_id') setOwn(fields, key, this.#invocation.clone(document[key]));
    this.#invocation.write(this.#collection, id, fields);
    return id;
  }

  /**
   * Set `fields` of document `id`; a field set to `undefined` is removed. Returns `false`
   * (and writes nothing) when the document is not present.
   */
  update(id: string, fields: Record<string, unknown>): boolean {
    this.#invocation.assertActive(`update '${id}' in '${this.name}'`);
    const existing = this.#collection.get(id);
    if (!existing) return false;
    const next: DocumentFields = {};
    for (const key of Object.keys(existing)) if (key !== '_id' && !(hasOwn(fields, key) && fields[key] === undefined)) setOwn(next, key, existing[key]);
    for (const key of Object.keys(fields)) {
      if (key === '_id') throw new Error('a stub cannot change a document _id');
      if (fields[key] !== undefined) setOwn(next, key, this.#invocation.clone(fields[key]));
    }
    this.#invocation.write(this.#collection, id, next);
    return true;
  }

  /** Remove document `id`; returns `false` when it is not present. */
  remove(id: string): boolean {
    this.#invocation.assertActive(`remove '${id}' from '${this.name}'`);
    if (!this.#collection.has(id)) return false;
    this.#invocation.write(this.#collection, id, undefined);
    return true;
  }
}

/** `this` inside a method stub (Meteor's simulated `MethodInvocation`). */
export interface MethodStubContext {
  /** Always `true`: the stub runs on the client, ahead of the server's method. */
  readonly isSimulation: true;
  /** The logged-in user, or `null`. */
  readonly userId: string | null;
  /** The id of the call the stub simulates. */
  readonly methodId: string;
  /** A writable view of the client collection `name`, for this simulation only. */
  collection<T extends DDPDocument = DDPDocument>(name: string): StubCollection<T>;
}

/** A method stub: runs synchronously on the client when the method is called. */
export type MethodStub = (this: MethodStubContext, ...params: never[]) => unknown;

/** What a stub invocation needs from its client. */
export interface StubHost {
  readonly ejson: EJSON;
  readonly stubs: StubDocuments;
  collection(name: string): Collection;
}

/** One run of a stub (and of the stubs it calls). @internal */
export class StubInvocation implements MethodStubContext {
  readonly isSimulation = true as const;
  readonly userId: string | null;
  readonly methodId: string;
  readonly #host: StubHost;
  #active = true;

  constructor(host: StubHost, methodId: string, userId: string | null) {
    this.#host = host;
    this.methodId = methodId;
    this.userId = userId;
  }

  collection<T extends DDPDocument = DDPDocument>(name: string): StubCollection<T> {
    return new StubCollection<T>(this.#host.collection(name) as unknown as Collection<T>, this);
  }

  /** Run `stub` with (copies of) `params` as this invocation. */
  run(stub: MethodStub, params: readonly unknown[]): unknown {
    const copies = this.#host.ejson.clone(params as EJSONValue[]) as never[];
    return stub.apply(this, copies);
  }

  /** The stub returned: later writes through its collections throw. */
  end(): void {
    this.#active = false;
  }

  /** @internal */
  assertActive(what: string): void {
    if (!this.#active) throw new SimulationError(`cannot ${what}: client collections can only be written by a method stub while it runs`);
  }

  /** @internal */
  clone(value: unknown): unknown {
    return this.#host.ejson.clone(value);
  }

  /** @internal */
  write(collection: Collection, id: string, fields: DocumentFields | undefined): void {
    this.#host.stubs.write(this.methodId, collection, id, fields);
  }
}

/** Run `stub` as call `methodId`, reporting whether it threw. */
export function simulate(
  host: StubHost,
  methodId: string,
  userId: string | null,
  stub: MethodStub,
  params: readonly unknown[],
  setCurrent: (invocation: StubInvocation | undefined) => void,
): { threw: false; value: unknown } | { threw: true; error: unknown } {
  const invocation = new StubInvocation(host, methodId, userId);
  setCurrent(invocation);
  try {
    return { threw: false, value: invocation.run(stub, params) };
  } catch (error) {
    return { threw: true, error };
  } finally {
    setCurrent(undefined);
    invocation.end();
  }
}

/** The client's registered stubs and the simulation running now, if any. @internal */
export class MethodStubs {
  readonly #stubs = new Map<string, MethodStub>();
  readonly #host: StubHost;
  #current: StubInvocation | undefined;

  constructor(host: StubHost) {
    this.#host = host;
  }

  /** Whether a stub is running (calls made now are simulated only). */
  get simulating(): boolean {
    return this.#current !== undefined;
  }

  /** Register stubs; a name already registered throws, as in Meteor. */
  define(methods: Readonly<Record<string, MethodStub>>): void {
    for (const [name, stub] of Object.entries(methods)) {
      if (typeof stub !== 'function') throw new TypeError(`the stub for '${name}' must be a function`);
      if (this.#stubs.has(name)) throw new Error(`a method stub named '${name}' is already defined`);
    }
    for (const [name, stub] of Object.entries(methods)) this.#stubs.set(name, stub);
  }

  /** The stub registered for `name`. */
  get(name: string): MethodStub | undefined {
    return this.#stubs.get(name);
  }

  /**
   * Run the stub of `pending`, if it has one, before the call is queued. Returns the error
   * that stops the call (a throwing stub with `throwStubExceptions`: its writes are undone);
   * other stub errors go to `reportError`.
   */
  runFor(pending: PendingMethod, options: ApplyOptions, promise: MethodPromise<unknown>, userId: string | null, reportError: (error: Error) => void): unknown {
    const stub = this.#stubs.get(pending.method);
    if (!stub) return undefined;
    const outcome = simulate(this.#host, pending.id, userId, stub, pending.params, (invocation) => {
      this.#current = invocation;
    });
    if (!outcome.threw) {
      if (options.returnStubValue) (promise as { stubValue?: unknown }).stubValue = outcome.value;
      return undefined;
    }
    if (options.throwStubExceptions) {
      this.#host.stubs.release(pending.id);
      return outcome.error ?? new Error(`the stub of '${pending.method}' threw undefined`);
    }
    reportError(outcome.error instanceof Error ? outcome.error : new Error(String(outcome.error)));
    return undefined;
  }

  /**
   * A call made from inside a stub: only its stub runs (its writes belong to the outer
   * call) and nothing is sent. The promise settles with what the stub returns or throws.
   */
  runNested<T>(pending: PendingMethod): MethodPromise<T> {
    const promise = methodPromise<T>(pending);
    const stub = this.#stubs.get(pending.method);
    try {
      pending.result.resolve(stub && this.#current ? this.#current.run(stub, pending.params) : undefined);
    } catch (error) {
      pending.result.reject(error);
    }
    pending.markUpdated();
    return promise;
  }
}
