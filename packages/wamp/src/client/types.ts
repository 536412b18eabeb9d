import type { Dict } from '../messages.js';
import type { MatchPolicy } from '../uri.js';

/** A call's result (or one progressive result). */
export interface CallResult {
  /** Positional results. */
  args: unknown[];
  /** Keyword results. */
  kwargs: Dict;
  /** The RESULT details (a transparent payload appears as `details.payload`). */
  details: Dict;
}

/** How CANCEL treats the callee: `skip` (just stop waiting), `kill` (interrupt, wait), `killnowait`. */
export type CancelMode = 'skip' | 'kill' | 'killnowait';

/** Options for `Client.call()`. */
export interface CallOptions {
  /** Keyword arguments. */
  kwargs?: Dict;
  /** Ask for progressive results (iterate the `Call` to get them). */
  receiveProgress?: boolean;
  /**
   * Make a progressive call invocation: the call's `args`/`kwargs` are its first chunk, send more
   * with `call.send()` and the last one with `call.end()`. The router and the callee must support
   * `progressive_call_invocations`, else the call rejects with `wamp.error.feature_not_supported`.
   */
  progressive?: boolean;
  /**
   * Stream these inputs as the call's further chunks (implies `progressive`): each item is sent
   * like a handler's result (a plain value as `args: [value]`, a `Result` with its args and
   * kwargs); when the iterable ends, a final empty chunk ends the input. Sending waits while the
   * connection's write buffer is full; the iterable is left when the call settles. If it throws,
   * the call is canceled (`killnowait`) and rejects with that error.
   */
  inputs?: AsyncIterable<unknown> | Iterable<unknown>;
  /** Dealer-side timeout in milliseconds: the dealer interrupts the callee and rejects with `wamp.error.timeout`. */
  timeoutMs?: number;
  /** Mode used when the signal aborts. Default `killnowait`. */
  cancelMode?: CancelMode;
  /** Aborting sends CANCEL and rejects the call. */
  signal?: AbortSignal;
  /** Ask the dealer to disclose this caller to the callee. */
  discloseMe?: boolean;
  /** Extra CALL options sent as they are. */
  options?: Dict;
}

/** Options for `Client.register()`. */
export interface RegisterOptions {
  /** `exact` (default), `prefix` or `wildcard`. */
  match?: MatchPolicy;
  /** Shared registration policy (default `single`). */
  invoke?: 'single' | 'roundrobin' | 'random' | 'first' | 'last';
  /** Ask the dealer to tell this callee who calls. */
  discloseCaller?: boolean;
  /** Extra REGISTER options sent as they are. */
  options?: Dict;
}

/** Options for `Client.publish()`. */
export interface PublishOptions {
  /** Keyword arguments. */
  kwargs?: Dict;
  /** Wait for PUBLISHED and resolve the publication id. */
  acknowledge?: boolean;
  /** Default `true`: the publisher does not get its own event. */
  excludeMe?: boolean;
  /** Session ids that must not receive the event. */
  exclude?: number[];
  /** Only these session ids may receive the event. */
  eligible?: number[];
  /** Authids that must not receive the event. */
  excludeAuthid?: string[];
  /** Only these authids may receive the event. */
  eligibleAuthid?: string[];
  /** Authroles that must not receive the event. */
  excludeAuthrole?: string[];
  /** Only these authroles may receive the event. */
  eligibleAuthrole?: string[];
  /** Ask the broker to tell subscribers who published. */
  discloseMe?: boolean;
  /**
   * Event retention: the broker keeps this event as the topic's retained event (replacing the one
   * before) for later subscribers that ask for it (`getRetained`). A retained publish with no args
   * and no kwargs clears it instead. The router must announce `event_retention`, else it is ignored.
   */
  retain?: boolean;
  /** Extra PUBLISH options sent as they are. */
  options?: Dict;
}

/** Options for `Client.subscribe()`. */
export interface SubscribeOptions {
  /** `exact` (default), `prefix` or `wildcard`. */
  match?: MatchPolicy;
  /**
   * Event retention: right after subscribing, get the retained event of every topic the
   * subscription matches (with `retained: true`), before any live event.
   */
  getRetained?: boolean;
  /** Extra SUBSCRIBE options sent as they are. */
  options?: Dict;
}

/** An event delivered to a subscription handler. */
export interface SubscriptionEvent {
  /** Positional arguments. */
  args: unknown[];
  /** Keyword arguments. */
  kwargs: Dict;
  /** The EVENT details (`publisher`, `topic`, ...). */
  details: Dict;
  /** The publication id. */
  publicationId: number;
  /** The subscription this event was delivered for. */
  subscriptionId: number;
  /** The topic the event was published to (differs from the subscription's for patterns). */
  topic: string;
  /** True for a topic's retained event, delivered because the subscription asked for it (`details.retained`). */
  retained: boolean;
}

/** Handles events; events of one subscription are delivered one at a time, in order. */
export type EventHandler = (event: SubscriptionEvent) => void | Promise<void>;

/** What a procedure handler gets for one call. */
export interface Invocation {
  /** Positional arguments. */
  args: unknown[];
  /** Keyword arguments. */
  kwargs: Dict;
  /** The INVOCATION details (`caller`, `procedure`, `timeout`, ...). */
  details: Dict;
  /** The procedure called (the concrete URI, also for pattern registrations). */
  procedure: string;
  /** Aborted on INTERRUPT (cancel) or when the call's timeout passes. */
  signal: AbortSignal;
  /** Send one progressive result (only when the caller asked for progress). */
  progress(args?: unknown[], kwargs?: Dict): void;
  /** True when the caller asked for progressive results. */
  receiveProgress: boolean;
  /** True for a progressive call invocation: the caller sends further chunks, read them from `inputs`. */
  progressive: boolean;
  /**
   * The chunks of a progressive call invocation after the first one (which is `args`/`kwargs`),
   * in order; ends after the caller's final chunk (yielded too), throws when the call is
   * interrupted (cancel, timeout, the caller left) or the connection is lost. Empty for a plain
   * invocation. Chunks that come after the handler answered are dropped.
   */
  inputs: AsyncIterable<InvocationChunk>;
}

/** One further chunk of a progressive call invocation. */
export interface InvocationChunk {
  /** Positional arguments. */
  args: unknown[];
  /** Keyword arguments. */
  kwargs: Dict;
  /** The INVOCATION details (`progress: true` on all chunks but the final one). */
  details: Dict;
  /** True for the caller's final chunk. */
  final: boolean;
}

/** An explicit procedure result with positional and keyword arguments. */
export class Result {
  constructor(
    readonly args: unknown[] = [],
    readonly kwargs: Dict = {},
    readonly options: Dict = {},
  ) {}
}

/**
 * Implements a procedure. Return a value (sent as `args: [value]`), a `Result`, a promise of
 * either, or an async iterable (each item a progressive result; its return value the final
 * result). Throw an `ApplicationError` to answer with an ERROR.
 */
export type ProcedureHandler = (invocation: Invocation) => unknown;
