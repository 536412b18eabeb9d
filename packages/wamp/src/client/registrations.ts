import { ErrorUri } from '../error-uris.js';
import { ClientClosedError } from '../errors.js';
import { MessageType } from '../message-types.js';
import type { Dict, InvocationMessage, WampMessage } from '../messages.js';
import { InvocationAbort, runInvocation, type InvocationSink } from './callee.js';
import { InvocationInputs } from './invocation-inputs.js';
import type { ProcedureHandler } from './types.js';

/** One procedure this client registered, as needed to register it again after a reconnect. */
export interface LocalRegistration {
  /** The registered procedure URI (or pattern). */
  procedure: string;
  /** The handler invocations run. */
  handler: ProcedureHandler;
  /** The REGISTER options sent. */
  options: Dict;
}

/** How many progressive invocations that ended before their final chunk are remembered (their late chunks are dropped). */
const MAX_CLOSED_STREAMS = 1024;

/** The callee side: this client's registrations by id, and the invocations still running. */
export class RegistrationTable {
  readonly #registrations = new Map<number, LocalRegistration>();
  readonly #invocations = new Map<number, InvocationAbort>();
  /** Progressive call invocations whose caller may still send chunks, by request id. */
  readonly #streams = new Map<number, InvocationInputs>();
  /** Progressive call invocations that ended before their final chunk, oldest first: further chunks are dropped. */
  readonly #closedStreams = new Set<number>();
  readonly #send: (message: WampMessage) => void;
  /** Shared by every invocation (no closures per invocation). */
  readonly #sink: InvocationSink;

  /** `send` writes a message if the session is open (a no-op otherwise). */
  constructor(send: (message: WampMessage) => void) {
    this.#send = send;
    this.#sink = {
      send,
      done: (requestId, controller) => {
        if (controller.timer !== undefined) clearTimeout(controller.timer);
        if (this.#invocations.get(requestId) === controller) this.#invocations.delete(requestId);
        const inputs = controller.inputs;
        if (inputs !== undefined && this.#streams.get(requestId) === inputs) {
          this.#streams.delete(requestId);
          inputs.close();
          if (!inputs.final) this.#closeStream(requestId);
        }
      },
    };
  }

  /** The number of registrations. */
  get size(): number {
    return this.#registrations.size;
  }

  /** Record registration `id` (REGISTERED arrived). */
  add(id: number, registration: LocalRegistration): void {
    this.#registrations.set(id, registration);
  }

  /** Forget registration `id` (unregistered by this client or revoked by the router); returns what it was. */
  delete(id: number): LocalRegistration | undefined {
    const registration = this.#registrations.get(id);
    this.#registrations.delete(id);
    return registration;
  }

  /** The registration ids for `procedure`. */
  idsFor(procedure: string): number[] {
    return [...this.#registrations].filter(([, r]) => r.procedure === procedure).map(([id]) => id);
  }

  /** Remove and return every registration (the session is gone; a reconnect registers them again). */
  takeAll(): LocalRegistration[] {
    const all = [...this.#registrations.values()];
    this.#registrations.clear();
    return all;
  }

  /**
   * Run an INVOCATION's handler, or answer `wamp.error.no_such_registration`. An INVOCATION
   * reusing the request id of a progressive call invocation is its next chunk.
   */
  invoke(message: InvocationMessage): void {
    const requestId = message.requestId;
    const stream = this.#streams.get(requestId);
    if (stream !== undefined) {
      stream.push(message);
      if (stream.final) this.#streams.delete(requestId);
      return;
    }
    const progressive = message.details['progress'] === true;
    if (this.#closedStreams.has(requestId)) {
      if (!progressive) this.#closedStreams.delete(requestId);
      return;
    }
    const registration = this.#registrations.get(message.registrationId);
    if (registration === undefined) {
      if (progressive) this.#closeStream(requestId);
      this.#send({ type: MessageType.ERROR, requestType: MessageType.INVOCATION, requestId, details: {}, error: ErrorUri.NO_SUCH_REGISTRATION });
      return;
    }
    const controller = new InvocationAbort();
    if (progressive) {
      controller.inputs = new InvocationInputs();
      this.#streams.set(requestId, controller.inputs);
    }
    const timeout = message.details['timeout'];
    if (typeof timeout === 'number' && timeout > 0) {
      controller.timer = setTimeout(() => controller.abort(new ClientClosedError('the call timed out')), timeout);
    }
    const procedure = typeof message.details['procedure'] === 'string' ? message.details['procedure'] : registration.procedure;
    // Only an invocation still running can be interrupted: one answered synchronously is not tracked.
    if (runInvocation(message, procedure, registration.handler, controller, this.#sink)) {
      this.#invocations.set(message.requestId, controller);
    }
  }

  /** Abort invocation `requestId` (INTERRUPT arrived); unknown or finished ones are ignored. */
  interrupt(requestId: number): void {
    this.#invocations.get(requestId)?.abort(new ClientClosedError('the call was canceled'));
  }

  #closeStream(requestId: number): void {
    this.#closedStreams.add(requestId);
    if (this.#closedStreams.size > MAX_CLOSED_STREAMS) {
      const oldest = this.#closedStreams.values().next();
      if (oldest.done !== true) this.#closedStreams.delete(oldest.value);
    }
  }

  /** Abort every running invocation (the session ended); their inputs fail with `error`. */
  abortAll(error: Error): void {
    for (const controller of this.#invocations.values()) controller.abort(error);
    for (const inputs of this.#streams.values()) inputs.fail(error);
    this.#invocations.clear();
    this.#streams.clear();
    this.#closedStreams.clear();
  }
}
