import { MessageType } from '../message-types.js';
import type { Dict, EventMessage, Payload, PublishMessage } from '../messages.js';
import { matchUri } from '../uri.js';
import { copyPayload } from './payload.js';
import { allowed, type PublicationFilter } from './publication-filter.js';
import type { SessionInfo } from './session-info.js';
import type { UriEntry } from './uri-table.js';

/** Default `RealmOptions.maxRetainedTopics`: how many topics keep a retained event per realm. */
export const DEFAULT_MAX_RETAINED_TOPICS = 10_000;

/** The event a topic keeps for later subscribers that ask for it (`get_retained`). */
export interface RetainedEvent {
  /** The topic it was published to. */
  readonly topic: string;
  /** The id of the publication it came from. */
  readonly publicationId: number;
  /** The publisher's session id (`undefined` for the router's own events). */
  readonly publisherId: number | undefined;
  /** True when the publisher excluded itself (`exclude_me`, default true). */
  readonly excludeMe: boolean;
  /** The publication's black- and whitelists, applied to each later subscriber. */
  readonly filter: PublicationFilter | undefined;
  /** EVENT details of the publication (publisher disclosure, payload passthru keys). */
  readonly details: Dict;
  /** The publication's args/kwargs or transparent payload. */
  readonly payload: Payload;
}

/** True when a PUBLISH carries nothing: no args, no kwargs, no transparent payload. */
export function isEmptyPublication(message: Payload): boolean {
  return message.payload === undefined && (message.args === undefined || message.args.length === 0)
    && (message.kwargs === undefined || Object.keys(message.kwargs).length === 0);
}

/**
 * The retained events of one realm's broker: one per topic, the latest retained publication
 * replacing the one before. At most `maxTopics` topics are kept; beyond that the topic whose
 * event was retained longest ago is dropped.
 */
export class RetainedEvents {
  /** By topic, oldest first (a replaced event moves to the end). */
  readonly #byTopic = new Map<string, RetainedEvent>();

  constructor(readonly maxTopics: number = DEFAULT_MAX_RETAINED_TOPICS) {
    if (!(maxTopics >= 0) || !Number.isInteger(maxTopics)) throw new RangeError(`maxRetainedTopics must be a non-negative integer, got ${String(maxTopics)}`);
  }

  /** The number of topics with a retained event. */
  get size(): number {
    return this.#byTopic.size;
  }

  /** The topics with a retained event, oldest first. */
  topics(): string[] {
    return [...this.#byTopic.keys()];
  }

  /** The retained event of `topic`, if any. */
  get(topic: string): RetainedEvent | undefined {
    return this.#byTopic.get(topic);
  }

  /** Keep `event` as its topic's retained event, dropping the oldest topics beyond the limit. */
  set(event: RetainedEvent): void {
    this.#byTopic.delete(event.topic);
    if (this.maxTopics === 0) return;
    this.#byTopic.set(event.topic, event);
    for (const topic of this.#byTopic.keys()) {
      if (this.#byTopic.size <= this.maxTopics) break;
      this.#byTopic.delete(topic);
    }
  }

  /** Forget the retained event of `topic`; true when there was one. */
  clear(topic: string): boolean {
    return this.#byTopic.delete(topic);
  }

  /** Keep (or, for an empty publication, clear) the retained event of a PUBLISH with `retain`. */
  retain(message: PublishMessage, event: Omit<RetainedEvent, 'topic' | 'payload'>): void {
    if (isEmptyPublication(message)) this.clear(message.topic);
    else this.set({ ...event, topic: message.topic, payload: copyPayload(message, {}) });
  }

  /**
   * The EVENTs a new subscriber of `subscription` gets for `get_retained`: the retained event of
   * every topic the subscription matches (oldest first) that `subscriber` would have received.
   */
  eventsFor(subscription: UriEntry, subscriber: SessionInfo): EventMessage[] {
    const found: RetainedEvent[] = [];
    if (subscription.match === 'exact') {
      const event = this.#byTopic.get(subscription.uri);
      if (event !== undefined) found.push(event);
    } else {
      for (const event of this.#byTopic.values()) if (matchUri(subscription.uri, subscription.match, event.topic)) found.push(event);
    }
    const events: EventMessage[] = [];
    for (const event of found) {
      if (event.excludeMe && event.publisherId === subscriber.id) continue;
      if (event.filter !== undefined && !allowed(subscriber, event.filter)) continue;
      const details: Dict = { ...event.details, retained: true };
      if (subscription.match !== 'exact') details['topic'] = event.topic;
      events.push(copyPayload(event.payload, { type: MessageType.EVENT, subscriptionId: subscription.id, publicationId: event.publicationId, details } as EventMessage));
    }
    return events;
  }
}
