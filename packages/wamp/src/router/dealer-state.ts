import type { IdGenerator } from '../ids.js';
import type { CallMessage } from '../messages.js';
import type { Callee, InvokePolicy } from './invoke-policy.js';
import type { InputStream } from './progressive-calls.js';
import type { RoutedSession } from './session-info.js';
import type { UriEntry } from './uri-table.js';

/** One registration: a URI pattern with one or more callees. */
export interface Registration extends UriEntry {
  readonly invoke: InvokePolicy;
  readonly created: string;
  callees: Callee[];
  next: number;
}

/** A session's dealer state: its invocation ids and the invocations it serves and makes. */
export interface Peer {
  readonly invocationIds: IdGenerator;
  /** Pending invocations this session serves, by invocation request id. */
  readonly serving: Map<number, Invocation>;
  /** Pending invocations this session made, by its CALL request id. */
  readonly calling: Map<number, Invocation>;
  /**
   * Progressive calls of this session that ended while it could still send chunks (the callee
   * answered early, cancel, timeout, refusal), by CALL request id, with their procedure: their
   * late chunks are dropped. Oldest first; an entry goes when the final chunk comes, or when more
   * than `MAX_CLOSED_INPUTS` pile up.
   */
  readonly closedInputs: Map<number, string>;
}

/** A call routed to a callee and not answered yet. */
export interface Invocation {
  id: number;
  caller: RoutedSession;
  callerRequestId: number;
  callee: RoutedSession;
  callerPeer: Peer;
  calleePeer: Peer;
  receiveProgress: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** Set once the caller got its final answer (cancel `skip`/`killnowait`, timeout). */
  answered: boolean;
  /** Set for a progressive call invocation. */
  stream: InputStream | undefined;
  /** The registration the call was routed by and its CALL, kept for call re-routing. */
  registration: Registration;
  call: CallMessage;
  /** The callees that answered `wamp.error.unavailable` for this call (call re-routing skips them). */
  unavailable: Set<RoutedSession> | undefined;
  /** Set once CANCEL `kill` interrupted the callee: its ERROR then goes to the caller as it is. */
  killed: boolean;
}
