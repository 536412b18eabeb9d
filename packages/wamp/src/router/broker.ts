import { ErrorUri } from '../error-uris.js';
import { IdGenerator, randomId } from '../ids.js';
import { MessageType } from '../message-types.js';
import type { Dict, EventMessage, PublishMessage, SubscribeMessage, UnsubscribeMessage } from '../messages.js';
import { isValidUri, type MatchPolicy } from '../uri.js';
import { copyEncryption, copyPayload } from './payload.js';
import { allowed, filterOf } from './publication-filter.js';
import { RetainedEvents } from './retention.js';
import { notifyRevoked } from './revocation.js';
import type { RoutedSession } from './session-info.js';
import { UriTable, type UriEntry } from './uri-table.js';

/** One subscription: a topic pattern and its subscribers. */
export interface Subscription extends UriEntry {
  readonly created: string;
  readonly subscribers: Set<RoutedSession>;
}

/** Routes events to subscribers: patterns, exclusion, black/whitelists, disclosure, acks, retained events. */
export class Broker {
  readonly subscriptions = new UriTable<Subscription>();
  /** The retained events (`retain` / `get_retained`), at most `maxRetainedTopics` topics. */
  readonly retained: RetainedEvents;
  readonly #ids = new IdGenerator();
  /** Called when subscriptions change, for meta events. */
  onChange: ((event: 'create' | 'subscribe' | 'unsubscribe' | 'delete', session: RoutedSession, subscription: Subscription) => void) | undefined;

  /** `maxRetainedTopics`: how many topics keep a retained event (the oldest go first). */
  constructor(maxRetainedTopics?: number) {
    this.retained = new RetainedEvents(maxRetainedTopics);
  }

  /** Handle SUBSCRIBE (subscribing twice to the same URI and policy returns the same id). */
  subscribe(session: RoutedSession, message: SubscribeMessage): void {
    const match = (message.options['match'] as MatchPolicy | undefined) ?? 'exact';
    if (!isValidUri(message.topic, match)) {
      return session.send({ type: MessageType.ERROR, requestType: MessageType.SUBSCRIBE, requestId: message.requestId, details: {}, error: ErrorUri.INVALID_URI });
    }
    let subscription = this.subscriptions.get(message.topic, match);
    const created = subscription === undefined;
    if (subscription === undefined) {
      subscription = { id: this.#ids.next(), uri: message.topic, match, created: new Date().toISOString(), subscribers: new Set() };
      this.subscriptions.add(subscription);
    }
    const isNew = !subscription.subscribers.has(session);
    subscription.subscribers.add(session);
    session.send({ type: MessageType.SUBSCRIBED, requestId: message.requestId, subscriptionId: subscription.id });
    // Retained events go right after SUBSCRIBED, so before any live event of the subscription.
    if (isNew && message.options['get_retained'] === true) {
      for (const event of this.retained.eventsFor(subscription, session)) session.send(event);
    }
    // Meta events follow the answer: on_create (a new subscription) comes before on_subscribe.
    if (created) this.onChange?.('create', session, subscription);
    if (isNew) this.onChange?.('subscribe', session, subscription);
  }

  /** Handle UNSUBSCRIBE. */
  unsubscribe(session: RoutedSession, message: UnsubscribeMessage): void {
    const subscription = this.subscriptions.byId.get(message.subscriptionId);
    if (subscription === undefined || !subscription.subscribers.delete(session)) {
      return session.send({ type: MessageType.ERROR, requestType: MessageType.UNSUBSCRIBE, requestId: message.requestId, details: {}, error: ErrorUri.NO_SUCH_SUBSCRIPTION });
    }
    session.send({ type: MessageType.UNSUBSCRIBED, requestId: message.requestId });
    this.#removed(subscription, session);
  }

  /**
   * Subscription revocation: take the session `sessionId` out of subscription `subscriptionId` (as for
   * UNSUBSCRIBE, with the meta events), telling it with UNSUBSCRIBED `{ subscription, reason }` when it
   * announced `subscription_revocation` (silently otherwise). False when there is no such
   * subscription or the session is not one of its subscribers.
   */
  removeSubscriber(subscriptionId: number, sessionId: number, reason?: string): boolean {
    const subscription = this.subscriptions.byId.get(subscriptionId);
    const session = subscription === undefined ? undefined : [...subscription.subscribers].find((s) => s.id === sessionId);
    if (subscription === undefined || session === undefined) return false;
    subscription.subscribers.delete(session);
    notifyRevoked(session, 'subscription', subscription.id, reason);
    this.#removed(subscription, session);
    return true;
  }

  /**
   * `session` was taken out of `subscription`: drop the subscription once it has no subscriber, and
   * report on_unsubscribe, then on_delete.
   */
  #removed(subscription: Subscription, session: RoutedSession): void {
    const last = subscription.subscribers.size === 0;
    if (last) this.subscriptions.delete(subscription);
    this.onChange?.('unsubscribe', session, subscription);
    if (last) this.onChange?.('delete', session, subscription);
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
    const publisherDetails: Dict = {};
    if (disclose) {
      publisherDetails['publisher'] = publisher.id;
      publisherDetails['publisher_authid'] = publisher.authid;
      publisherDetails['publisher_authrole'] = publisher.authrole;
    }
    copyEncryption(options, publisherDetails);
    if (options['retain'] === true) {
      this.retained.retain(message, { publicationId, publisherId: publisher?.id, excludeMe, filter, details: publisherDetails });
    }
    for (const subscription of this.subscriptions.matching(message.topic)) {
      const details: Dict = subscription.match === 'exact' ? { ...publisherDetails } : { ...publisherDetails, topic: message.topic };
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

  /**
   * A session left: drop its subscriptions. It is taken out of all of them before the meta events
   * go out, so it gets none of them itself.
   */
  detach(session: RoutedSession): void {
    const left = this.subscriptions.all().filter((subscription) => subscription.subscribers.delete(session));
    for (const subscription of left) this.#removed(subscription, session);
  }
}
