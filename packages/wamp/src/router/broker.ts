import { ErrorUri } from '../error-uris.js';
import { IdGenerator, randomId } from '../ids.js';
import { MessageType } from '../message-types.js';
import type { Dict, EventMessage, PublishMessage, SubscribeMessage, UnsubscribeMessage } from '../messages.js';
import { isValidUri, type MatchPolicy } from '../uri.js';
import { copyEncryption, copyPayload } from './payload.js';
import type { RoutedSession } from './session-info.js';
import { UriTable, type UriEntry } from './uri-table.js';

/** One subscription: a topic pattern and its subscribers. */
export interface Subscription extends UriEntry {
  readonly created: string;
  readonly subscribers: Set<RoutedSession>;
}

/** Publication options that filter receivers. */
interface Filter {
  exclude: Set<number> | undefined;
  excludeAuthid: Set<string> | undefined;
  excludeAuthrole: Set<string> | undefined;
  eligible: Set<number> | undefined;
  eligibleAuthid: Set<string> | undefined;
  eligibleAuthrole: Set<string> | undefined;
}

const setOf = <T>(value: unknown): Set<T> | undefined => (Array.isArray(value) ? new Set(value as T[]) : undefined);

/** The receiver filter of a publication, or `undefined` when it sets none (the usual case). */
function filterOf(options: Dict): Filter | undefined {
  const exclude = options['exclude'];
  const excludeAuthid = options['exclude_authid'];
  const excludeAuthrole = options['exclude_authrole'];
  const eligible = options['eligible'];
  const eligibleAuthid = options['eligible_authid'];
  const eligibleAuthrole = options['eligible_authrole'];
  if (!Array.isArray(exclude) && !Array.isArray(excludeAuthid) && !Array.isArray(excludeAuthrole)
    && !Array.isArray(eligible) && !Array.isArray(eligibleAuthid) && !Array.isArray(eligibleAuthrole)) return undefined;
  return {
    exclude: setOf(exclude), excludeAuthid: setOf(excludeAuthid), excludeAuthrole: setOf(excludeAuthrole),
    eligible: setOf(eligible), eligibleAuthid: setOf(eligibleAuthid), eligibleAuthrole: setOf(eligibleAuthrole),
  };
}

function allowed(session: RoutedSession, filter: Filter): boolean {
  if (filter.exclude?.has(session.id) === true) return false;
  if (filter.excludeAuthid?.has(session.authid) === true) return false;
  if (filter.excludeAuthrole?.has(session.authrole) === true) return false;
  if (filter.eligible !== undefined && !filter.eligible.has(session.id)) return false;
  if (filter.eligibleAuthid !== undefined && !filter.eligibleAuthid.has(session.authid)) return false;
  if (filter.eligibleAuthrole !== undefined && !filter.eligibleAuthrole.has(session.authrole)) return false;
  return true;
}

/** Routes events to subscribers: patterns, exclusion, black/whitelists, disclosure, acks. */
export class Broker {
  readonly subscriptions = new UriTable<Subscription>();
  readonly #ids = new IdGenerator();
  /** Called when subscriptions change, for meta events. */
  onChange: ((event: 'create' | 'subscribe' | 'unsubscribe' | 'delete', session: RoutedSession, subscription: Subscription) => void) | undefined;

  /** Handle SUBSCRIBE (subscribing twice to the same URI and policy returns the same id). */
  subscribe(session: RoutedSession, message: SubscribeMessage): void {
    const match = (message.options['match'] as MatchPolicy | undefined) ?? 'exact';
    if (!isValidUri(message.topic, match)) {
      return session.send({ type: MessageType.ERROR, requestType: MessageType.SUBSCRIBE, requestId: message.requestId, details: {}, error: ErrorUri.INVALID_URI });
    }
    let subscription = this.subscriptions.get(message.topic, match);
    if (subscription === undefined) {
      subscription = { id: this.#ids.next(), uri: message.topic, match, created: new Date().toISOString(), subscribers: new Set() };
      this.subscriptions.add(subscription);
      this.onChange?.('create', session, subscription);
    }
    const isNew = !subscription.subscribers.has(session);
    subscription.subscribers.add(session);
    session.send({ type: MessageType.SUBSCRIBED, requestId: message.requestId, subscriptionId: subscription.id });
    if (isNew) this.onChange?.('subscribe', session, subscription);
  }

  /** Handle UNSUBSCRIBE. */
  unsubscribe(session: RoutedSession, message: UnsubscribeMessage): void {
    const subscription = this.subscriptions.byId.get(message.subscriptionId);
    if (subscription === undefined || !this.#remove(subscription, session)) {
      return session.send({ type: MessageType.ERROR, requestType: MessageType.UNSUBSCRIBE, requestId: message.requestId, details: {}, error: ErrorUri.NO_SUCH_SUBSCRIPTION });
    }
    session.send({ type: MessageType.UNSUBSCRIBED, requestId: message.requestId });
  }

  #remove(subscription: Subscription, session: RoutedSession): boolean {
    if (!subscription.subscribers.delete(session)) return false;
    this.onChange?.('unsubscribe', session, subscription);
    if (subscription.subscribers.size === 0) {
      this.subscriptions.delete(subscription);
      this.onChange?.('delete', session, subscription);
    }
    return true;
  }

  /** Handle PUBLISH (`publisher` is `undefined` for the router's own meta events). */
  publish(publisher: RoutedSession | undefined, message: PublishMessage): void {
    const options = message.options;
    const acknowledge = options['acknowledge'] === true;
    // Only the router publishes meta events: a client may not publish into the reserved namespace.
    if (!isValidUri(message.topic) || (publisher !== undefined && message.topic.startsWith('wamp.'))) {
      if (acknowledge && publisher !== undefined) {
        publisher.send({ type: MessageType.ERROR, requestType: MessageType.PUBLISH, requestId: message.requestId, details: {}, error: ErrorUri.INVALID_URI });
      }
      return;
    }
    const publicationId = randomId();
    const filter = filterOf(options);
    const excludeMe = options['exclude_me'] !== false;
    const disclose = options['disclose_me'] === true && publisher !== undefined;
    for (const subscription of this.subscriptions.matching(message.topic)) {
      const details: Dict = {};
      if (subscription.match !== 'exact') details['topic'] = message.topic;
      if (disclose) {
        details['publisher'] = publisher.id;
        details['publisher_authid'] = publisher.authid;
        details['publisher_authrole'] = publisher.authrole;
      }
      copyEncryption(options, details);
      // One message object for every subscriber: the session serializes it once per serializer.
      const event = copyPayload(message, { type: MessageType.EVENT, subscriptionId: subscription.id, publicationId, details } as EventMessage);
      for (const subscriber of subscription.subscribers) {
        if (subscriber === publisher && excludeMe) continue;
        if (filter !== undefined && !allowed(subscriber, filter)) continue;
        subscriber.send(event);
      }
    }
    if (acknowledge && publisher !== undefined) {
      publisher.send({ type: MessageType.PUBLISHED, requestId: message.requestId, publicationId });
    }
  }

  /** A session left: drop its subscriptions. */
  detach(session: RoutedSession): void {
    for (const subscription of this.subscriptions.all()) this.#remove(subscription, session);
  }
}
