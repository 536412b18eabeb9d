import { ErrorUri } from '../error-uris.js';
import { WampProtocolError } from '../errors.js';
import { IdGenerator } from '../ids.js';
import { MessageType } from '../message-types.js';
import type {
  CallMessage, CancelMessage, Dict, ErrorMessage, InvocationMessage, RegisterMessage, ResultMessage, UnregisterMessage, YieldMessage,
} from '../messages.js';
import { isValidUri, type MatchPolicy } from '../uri.js';
import type { Invocation, Peer, Registration } from './dealer-state.js';
import type { RoutedSession } from './session-info.js';
import { invocationDetails } from './invocation-details.js';
import { pickCallee, type Callee, type InvokePolicy } from './invoke-policy.js';
import { copyEncryption, copyPayload } from './payload.js';
import { takesProgressiveInvocations } from './progressive-calls.js';
import { notifyRevoked } from './revocation.js';
import { UriTable } from './uri-table.js';

export type { InvokePolicy } from './invoke-policy.js';
export type { Registration } from './dealer-state.js';

/** A procedure implemented inside the router (meta procedures). */
export type InternalProcedure = (caller: RoutedSession, args: unknown[], kwargs: Dict) => unknown;

/** How many ended progressive calls with an open input the dealer remembers per session. */
const MAX_CLOSED_INPUTS = 1024;

const errorFor = (requestType: number, requestId: number, error: string, args?: unknown[]): ErrorMessage =>
  args === undefined
    ? { type: MessageType.ERROR, requestType, requestId, details: {}, error }
    : { type: MessageType.ERROR, requestType, requestId, details: {}, error, args };

/** Routes calls to callees: registrations, invocations, progress, cancel and timeouts. */
export class Dealer {
  readonly registrations = new UriTable<Registration>();
  readonly #registrationIds = new IdGenerator();
  readonly #internal = new Map<string, InternalProcedure>();
  /** Per-session state, made on a session's first call or invocation. */
  readonly #peers = new Map<RoutedSession, Peer>();
  /** Called when registrations change, for meta events. */
  onChange: ((event: 'create' | 'register' | 'unregister' | 'delete', session: RoutedSession, registration: Registration) => void) | undefined;

  #peer(session: RoutedSession): Peer {
    let peer = this.#peers.get(session);
    if (peer === undefined) {
      peer = { invocationIds: new IdGenerator(), serving: new Map(), calling: new Map(), closedInputs: new Map() };
      this.#peers.set(session, peer);
    }
    return peer;
  }

  /** True when `procedure` is served inside the router or registered under exactly this URI (so it is a valid URI). */
  knows(procedure: string): boolean {
    return this.registrations.hasExact(procedure) || this.#internal.has(procedure);
  }

  /** Serve `procedure` inside the router (used for the meta API). */
  addInternal(procedure: string, handler: InternalProcedure): void {
    this.#internal.set(procedure, handler);
  }

  /** Handle REGISTER: add `session` as a callee (shared registrations must agree on the invoke policy). */
  register(session: RoutedSession, message: RegisterMessage): void {
    const match = (message.options['match'] as MatchPolicy | undefined) ?? 'exact';
    const invoke = (message.options['invoke'] as InvokePolicy | undefined) ?? 'single';
    if (!isValidUri(message.procedure, match)) {
      return session.send(errorFor(MessageType.REGISTER, message.requestId, ErrorUri.INVALID_URI));
    }
    if (match === 'exact' && (message.procedure.startsWith('wamp.') || this.#internal.has(message.procedure))) {
      return session.send(errorFor(MessageType.REGISTER, message.requestId, ErrorUri.INVALID_URI, ['the wamp. namespace is reserved']));
    }
    let registration = this.registrations.get(message.procedure, match);
    const callee: Callee = { session, discloseCaller: message.options['disclose_caller'] === true, created: Date.now() };
    let kicked: Callee[] = [];
    const created = registration === undefined;
    if (registration !== undefined) {
      const exists = registration.callees.some((c) => c.session === session);
      if (exists || registration.invoke === 'single' || registration.invoke !== invoke) {
        if (message.options['force_reregister'] === true && registration.invoke === 'single' && !exists) {
          kicked = this.#dropCallees(registration);
        } else {
          return session.send(errorFor(MessageType.REGISTER, message.requestId, ErrorUri.PROCEDURE_ALREADY_EXISTS));
        }
      }
      registration.callees.push(callee);
    } else {
      registration = {
        id: this.#registrationIds.next(), uri: message.procedure, match, invoke,
        created: new Date().toISOString(), callees: [callee], next: 0,
      };
      this.registrations.add(registration);
    }
    session.send({ type: MessageType.REGISTERED, requestId: message.requestId, registrationId: registration.id });
    // Meta events follow the answer: on_create before on_register; callees pushed out by force_reregister leave first.
    if (created) this.onChange?.('create', session, registration);
    for (const old of kicked) this.onChange?.('unregister', old.session, registration);
    this.onChange?.('register', session, registration);
  }

  /** Take every callee off `registration` (force_reregister), telling each with UNREGISTERED; returns them. */
  #dropCallees(registration: Registration): Callee[] {
    const dropped = registration.callees;
    for (const callee of dropped) {
      callee.session.send({ type: MessageType.UNREGISTERED, requestId: 0, details: { registration: registration.id, reason: 'wamp.error.unregistered' } });
    }
    registration.callees = [];
    return dropped;
  }

  /** Handle UNREGISTER. */
  unregister(session: RoutedSession, message: UnregisterMessage): void {
    const registration = this.registrations.byId.get(message.registrationId);
    if (registration === undefined || !registration.callees.some((c) => c.session === session)) {
      return session.send(errorFor(MessageType.UNREGISTER, message.requestId, ErrorUri.NO_SUCH_REGISTRATION));
    }
    session.send({ type: MessageType.UNREGISTERED, requestId: message.requestId });
    this.#removeCallee(registration, session);
  }

  /** Take `session` off `registration` (dropping it after its last callee) and report on_unregister, then on_delete. */
  #removeCallee(registration: Registration, session: RoutedSession): void {
    const index = registration.callees.findIndex((c) => c.session === session);
    if (index < 0) return;
    registration.callees.splice(index, 1);
    const last = registration.callees.length === 0;
    if (last) this.registrations.delete(registration);
    this.onChange?.('unregister', session, registration);
    if (last) this.onChange?.('delete', session, registration);
  }

  /**
   * True when a CALL with `requestId` from `caller` continues one of its calls (a chunk of a
   * progressive call invocation, or a reuse of a pending request id): `call()` takes it without
   * new authorization or URI checks.
   */
  continues(caller: RoutedSession, requestId: number): boolean {
    const peer = this.#peers.get(caller);
    return peer !== undefined && (peer.calling.has(requestId) || peer.closedInputs.has(requestId));
  }

  /**
   * Handle CALL: pick a callee and send it an INVOCATION (or answer `no_such_procedure`). A CALL
   * reusing the request id of a progressive call goes to the same callee as the same invocation.
   * Throws `WampProtocolError` for a CALL that reuses the request id of a pending call that is
   * not an open progressive call, or names a different procedure than the call it continues.
   */
  call(caller: RoutedSession, message: CallMessage): void {
    const callerPeer = this.#peers.get(caller);
    if (callerPeer !== undefined) {
      const pending = callerPeer.calling.get(message.requestId);
      if (pending !== undefined) return this.#continue(pending, message);
      const closed = callerPeer.closedInputs.get(message.requestId);
      if (closed !== undefined) return this.#dropChunk(callerPeer, message, closed);
    }
    const progress = message.options['progress'] === true;
    const internal = this.#internal.get(message.procedure);
    if (internal !== undefined) {
      if (progress) return this.refuseCall(caller, message, ErrorUri.FEATURE_NOT_SUPPORTED, [`${message.procedure} takes no progressive call invocations`]);
      void this.#callInternal(caller, message, internal);
      return;
    }
    const registration = this.registrations.best(message.procedure);
    const callee = registration === undefined ? undefined : pickCallee(registration);
    if (registration === undefined || callee === undefined) {
      return this.refuseCall(caller, message, ErrorUri.NO_SUCH_PROCEDURE, [`no callee registered for ${message.procedure}`]);
    }
    if (progress && !takesProgressiveInvocations(callee.session)) {
      return this.refuseCall(caller, message, ErrorUri.FEATURE_NOT_SUPPORTED, [`the callee of ${message.procedure} takes no progressive call invocations`]);
    }
    const invocation: Invocation = {
      id: 0, caller, callerRequestId: message.requestId, callee: callee.session, callerPeer: callerPeer ?? this.#peer(caller),
      calleePeer: this.#peer(callee.session), receiveProgress: message.options['receive_progress'] === true, timer: undefined,
      answered: false, stream: undefined, registration, call: message, unavailable: undefined, killed: false,
    };
    invocation.callerPeer.calling.set(message.requestId, invocation);
    const timeout = message.options['timeout'];
    if (typeof timeout === 'number' && timeout > 0) {
      invocation.timer = setTimeout(() => this.#expire(invocation), timeout);
    }
    this.#invoke(invocation, callee);
  }

  /** Send `invocation` to `callee` as an INVOCATION, with a new invocation id of that callee. */
  #invoke(invocation: Invocation, callee: Callee): void {
    const message = invocation.call;
    const registration = invocation.registration;
    const details = invocationDetails(invocation.caller, message, registration.match, callee.discloseCaller);
    const progress = message.options['progress'] === true;
    const calleePeer = this.#peer(callee.session);
    invocation.callee = callee.session;
    invocation.calleePeer = calleePeer;
    invocation.id = calleePeer.invocationIds.next();
    calleePeer.serving.set(invocation.id, invocation);
    if (progress) invocation.stream = { procedure: message.procedure, registrationId: registration.id, details, open: true };
    const out: InvocationMessage = {
      type: MessageType.INVOCATION, requestId: invocation.id, registrationId: registration.id,
      details: progress ? { ...details, progress: true } : details,
    };
    callee.session.send(copyPayload(message, out));
  }

  /** A further CALL for a pending call: forward a progressive chunk as an INVOCATION with the same id. */
  #continue(invocation: Invocation, message: CallMessage): void {
    const stream = invocation.stream;
    if (stream === undefined || !stream.open) {
      throw new WampProtocolError(`CALL request id ${message.requestId} is in use by a pending call that takes no more chunks`);
    }
    if (message.procedure !== stream.procedure) {
      throw new WampProtocolError(`progressive CALL ${message.requestId} names ${message.procedure}, but the call is to ${stream.procedure}`);
    }
    const progress = message.options['progress'] === true;
    if (!progress) stream.open = false;
    const details: Dict = progress ? { ...stream.details, progress: true } : { ...stream.details };
    copyEncryption(message.options, details);
    const out: InvocationMessage = { type: MessageType.INVOCATION, requestId: invocation.id, registrationId: stream.registrationId, details };
    invocation.callee.send(copyPayload(message, out));
  }

  /** A chunk of a progressive call that already ended: dropped (the caller has its answer). */
  #dropChunk(peer: Peer, message: CallMessage, procedure: string): void {
    if (message.procedure !== procedure) {
      throw new WampProtocolError(`progressive CALL ${message.requestId} names ${message.procedure}, but the call was to ${procedure}`);
    }
    if (message.options['progress'] !== true) peer.closedInputs.delete(message.requestId);
  }

  /**
   * Answer a CALL with ERROR `uri`. For a progressive CALL, the chunks that follow it are dropped
   * (used by the router session for invalid URIs and refused authorization too).
   */
  refuseCall(caller: RoutedSession, message: CallMessage, uri: string, args?: unknown[]): void {
    if (message.options['progress'] === true) this.#closeInput(this.#peer(caller), message.requestId, message.procedure);
    caller.send(errorFor(MessageType.CALL, message.requestId, uri, args));
  }

  /** Remember that progressive call `requestId` of `peer` ended while chunks may still come. */
  #closeInput(peer: Peer, requestId: number, procedure: string): void {
    peer.closedInputs.set(requestId, procedure);
    if (peer.closedInputs.size > MAX_CLOSED_INPUTS) {
      const oldest = peer.closedInputs.keys().next();
      if (oldest.done !== true) peer.closedInputs.delete(oldest.value);
    }
  }

  async #callInternal(caller: RoutedSession, message: CallMessage, handler: InternalProcedure): Promise<void> {
    try {
      const result = await handler(caller, message.args ?? [], message.kwargs ?? {});
      caller.send({ type: MessageType.RESULT, requestId: message.requestId, details: {}, args: [result] });
    } catch (error) {
      const uri = (error as { uri?: unknown }).uri;
      caller.send(errorFor(MessageType.CALL, message.requestId, typeof uri === 'string' ? uri : ErrorUri.RUNTIME_ERROR, [String((error as Error).message)]));
    }
  }

  #expire(invocation: Invocation): void {
    invocation.timer = undefined;
    if (invocation.answered) return;
    this.#interrupt(invocation, 'killnowait', ErrorUri.TIMEOUT);
    this.#finish(invocation);
    invocation.caller.send(errorFor(MessageType.CALL, invocation.callerRequestId, ErrorUri.TIMEOUT, ['call timed out']));
  }

  #interrupt(invocation: Invocation, mode: string, reason: string): void {
    if (invocation.callee.supports('callee', 'call_canceling')) {
      invocation.callee.send({ type: MessageType.INTERRUPT, requestId: invocation.id, options: { mode, reason } });
    }
  }

  /** Forget an invocation entirely (no more answers will be forwarded). */
  #finish(invocation: Invocation): void {
    invocation.answered = true;
    const stream = invocation.stream;
    if (stream?.open === true) {
      stream.open = false;
      this.#closeInput(invocation.callerPeer, invocation.callerRequestId, stream.procedure);
    }
    if (invocation.timer !== undefined) clearTimeout(invocation.timer);
    invocation.calleePeer.serving.delete(invocation.id);
    invocation.callerPeer.calling.delete(invocation.callerRequestId);
  }

  /** Handle CANCEL with mode `skip`, `kill` or `killnowait` (`skip` when the callee cannot be interrupted). */
  cancel(caller: RoutedSession, message: CancelMessage): void {
    const invocation = this.#peers.get(caller)?.calling.get(message.requestId);
    if (invocation === undefined || invocation.answered) return;
    const canInterrupt = invocation.callee.supports('callee', 'call_canceling');
    const requested = (message.options['mode'] as string | undefined) ?? 'killnowait';
    // A callee waiting for more chunks of a progressive call would wait forever: `skip` interrupts it too.
    const waitsForChunks = invocation.stream?.open === true && requested === 'skip';
    const mode = !canInterrupt ? 'skip' : waitsForChunks ? 'killnowait' : requested;
    const canceled = (): void =>
      caller.send(errorFor(MessageType.CALL, invocation.callerRequestId, ErrorUri.CANCELED, ['the call was canceled']));
    if (mode === 'kill') {
      // The caller's ERROR comes from the callee's answer to INTERRUPT.
      invocation.killed = true;
      this.#interrupt(invocation, 'kill', ErrorUri.CANCELED);
      return;
    }
    if (mode === 'killnowait') this.#interrupt(invocation, 'killnowait', ErrorUri.CANCELED);
    this.#finish(invocation);
    canceled();
  }

  /** Handle YIELD: forward a (progressive) RESULT to the caller. */
  yield(callee: RoutedSession, message: YieldMessage): void {
    const invocation = this.#peers.get(callee)?.serving.get(message.requestId);
    if (invocation === undefined) return;
    const progress = message.options['progress'] === true;
    if (progress && !invocation.receiveProgress) return;
    if (!progress) this.#finish(invocation);
    const details: Dict = progress ? { progress: true } : {};
    copyEncryption(message.options, details);
    const out: ResultMessage = { type: MessageType.RESULT, requestId: invocation.callerRequestId, details };
    invocation.caller.send(copyPayload(message, out));
  }

  /** Handle a callee's ERROR for an INVOCATION: forward it to the caller (`wamp.error.unavailable` re-routes the call). */
  error(callee: RoutedSession, message: ErrorMessage): void {
    const invocation = this.#peers.get(callee)?.serving.get(message.requestId);
    if (invocation === undefined) return;
    if (message.error === ErrorUri.UNAVAILABLE && !invocation.killed) return this.#reroute(invocation);
    this.#finish(invocation);
    invocation.caller.send({ ...message, requestType: MessageType.CALL, requestId: invocation.callerRequestId });
  }

  /**
   * Call re-routing: the callee answered `wamp.error.unavailable`. The call goes to another callee
   * of its registration by the invoke policy, as if the callees that were unavailable for it were
   * not registered; when none is left (at once for a `single` registration, and for a progressive
   * call invocation, whose chunks cannot be sent again) the caller gets `wamp.error.no_available_callee`.
   */
  #reroute(invocation: Invocation): void {
    invocation.calleePeer.serving.delete(invocation.id);
    const skip = (invocation.unavailable ??= new Set());
    skip.add(invocation.callee);
    const registration = invocation.registration;
    const next = registration.invoke === 'single' || invocation.stream !== undefined ? undefined : pickCallee(registration, skip);
    if (next !== undefined) return this.#invoke(invocation, next);
    this.#finish(invocation);
    invocation.caller.send(errorFor(MessageType.CALL, invocation.callerRequestId, ErrorUri.NO_AVAILABLE_CALLEE, ['every callee is unavailable']));
  }

  /**
   * Registration revocation: take the session `sessionId` off registration `registrationId` (as for
   * UNREGISTER, with the meta events), telling it with UNREGISTERED `{ registration, reason }` when it
   * announced `registration_revocation` (silently otherwise). Its pending invocations go on. False
   * when there is no such registration or the session is not one of its callees.
   */
  removeCallee(registrationId: number, sessionId: number, reason?: string): boolean {
    const registration = this.registrations.byId.get(registrationId);
    const callee = registration?.callees.find((c) => c.session.id === sessionId);
    if (registration === undefined || callee === undefined) return false;
    notifyRevoked(callee.session, 'registration', registration.id, reason);
    this.#removeCallee(registration, callee.session);
    return true;
  }

  /** A session left: drop its registrations, fail calls it was serving, interrupt calls it made. */
  detach(session: RoutedSession): void {
    for (const registration of this.registrations.all()) this.#removeCallee(registration, session);
    const peer = this.#peers.get(session);
    if (peer === undefined) return;
    this.#peers.delete(session);
    for (const invocation of [...peer.serving.values()]) {
      this.#finish(invocation);
      invocation.caller.send(errorFor(MessageType.CALL, invocation.callerRequestId, ErrorUri.CANCELED, ['the callee left while the call was pending']));
    }
    for (const invocation of [...peer.calling.values()]) {
      this.#interrupt(invocation, 'killnowait', ErrorUri.CANCELED);
      this.#finish(invocation);
    }
  }
}
