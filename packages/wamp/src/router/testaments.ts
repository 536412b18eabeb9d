import { checkDict, isDict } from '../dict-rules.js';
import { ErrorUri } from '../error-uris.js';
import { WampProtocolError } from '../errors.js';
import { MessageType } from '../message-types.js';
import type { Dict, PublishMessage } from '../messages.js';
import { isValidUri } from '../uri.js';
import type { Dealer } from './dealer.js';
import type { Authorizer, RoutedSession } from './session-info.js';

/** When a testament is published: when the session is detached or destroyed (for us, both when it ends). */
export type TestamentScope = 'detached' | 'destroyed';

/** An error answered by a testament procedure (the dealer sends its `uri`). */
class TestamentError extends Error {
  constructor(readonly uri: string, message: string) {
    super(message);
  }
}

const invalid = (message: string): TestamentError => new TestamentError(ErrorUri.INVALID_ARGUMENT, message);

/** The `scope` keyword argument (default `destroyed`). */
function scopeOf(kwargs: Dict): TestamentScope {
  const scope = kwargs['scope'] ?? 'destroyed';
  if (scope !== 'destroyed' && scope !== 'detached') throw invalid(`scope must be "destroyed" or "detached", got ${JSON.stringify(scope) ?? String(scope)}`);
  return scope;
}

/** The PUBLISH a testament makes, from `wamp.session.add_testament`'s arguments; throws `TestamentError`. */
function testamentOf(args: unknown[], kwargs: Dict): PublishMessage {
  const [topic, eventArgs, eventKwargs] = args;
  if (args.length > 3) throw invalid('add_testament takes topic, args and kwargs');
  if (typeof topic !== 'string') throw invalid('the first argument must be the topic URI');
  if (!isValidUri(topic) || topic.startsWith('wamp.')) throw new TestamentError(ErrorUri.INVALID_URI, `invalid topic URI ${topic}`);
  if (eventArgs != null && !Array.isArray(eventArgs)) throw invalid('the second argument (args) must be a list');
  if (eventKwargs != null && !isDict(eventKwargs)) throw invalid('the third argument (kwargs) must be a dictionary');
  const publishOptions = kwargs['publish_options'] ?? {};
  if (!isDict(publishOptions)) throw invalid('publish_options must be a dictionary');
  try {
    checkDict(MessageType.PUBLISH, 'publish_options', publishOptions);
  } catch (error) {
    if (error instanceof WampProtocolError) throw invalid(error.message);
    throw error;
  }
  // Nobody is left to acknowledge to, and the session is gone before its testaments go out.
  const { acknowledge: _acknowledge, exclude_me: _excludeMe, ...options } = publishOptions;
  const message: PublishMessage = { type: MessageType.PUBLISH, requestId: 0, options, topic };
  if (Array.isArray(eventArgs) && eventArgs.length > 0) message.args = eventArgs as unknown[];
  if (isDict(eventKwargs) && Object.keys(eventKwargs).length > 0) {
    message.args ??= [];
    message.kwargs = eventKwargs;
  }
  return message;
}

/**
 * The testaments of one realm's sessions (`wamp.session.add_testament` / `flush_testaments`):
 * events the router publishes for a session once it ends, in the order they were added, the
 * `detached` ones before the `destroyed` ones.
 */
export class Testaments {
  readonly #bySession = new Map<RoutedSession, Record<TestamentScope, PublishMessage[]>>();

  /**
   * Serve the testament procedures on `dealer`. `joined` tells whether a session is still in the
   * realm; `authorize` (the router's hook) must allow the session to `publish` to the topic.
   */
  constructor(dealer: Dealer, joined: (session: RoutedSession) => boolean, authorize: Authorizer | undefined) {
    dealer.addInternal('wamp.session.add_testament', async (caller, args, kwargs) => {
      const scope = scopeOf(kwargs);
      const message = testamentOf(args, kwargs);
      if (authorize !== undefined && !(await Promise.resolve().then(() => authorize(caller, message.topic, 'publish')).catch(() => false))) {
        throw new TestamentError(ErrorUri.NOT_AUTHORIZED, `${caller.authrole} may not publish ${message.topic}`);
      }
      if (joined(caller)) this.add(caller, scope, message);
      return null;
    });
    dealer.addInternal('wamp.session.flush_testaments', (caller, args, kwargs) => {
      if (args.length > 0) throw invalid('flush_testaments takes only the scope keyword argument');
      return this.flush(caller, scopeOf(kwargs));
    });
  }

  /** Add a testament of `session`. */
  add(session: RoutedSession, scope: TestamentScope, message: PublishMessage): void {
    let buckets = this.#bySession.get(session);
    if (buckets === undefined) {
      buckets = { detached: [], destroyed: [] };
      this.#bySession.set(session, buckets);
    }
    buckets[scope].push(message);
  }

  /** Forget the testaments of `session` in `scope`; returns how many there were. */
  flush(session: RoutedSession, scope: TestamentScope): number {
    const buckets = this.#bySession.get(session);
    if (buckets === undefined) return 0;
    const count = buckets[scope].length;
    buckets[scope] = [];
    return count;
  }

  /** Remove and return the testaments of `session` in publication order (`detached`, then `destroyed`). */
  take(session: RoutedSession): PublishMessage[] {
    const buckets = this.#bySession.get(session);
    if (buckets === undefined) return [];
    this.#bySession.delete(session);
    return [...buckets.detached, ...buckets.destroyed];
  }

  /** The sessions that have testaments. */
  sessions(): RoutedSession[] {
    return [...this.#bySession.keys()];
  }
}
