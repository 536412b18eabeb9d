import { MessageType } from '../message-types.js';
import type { Dict } from '../messages.js';
import type { Broker, Subscription } from './broker.js';
import type { Dealer, Registration } from './dealer.js';

/** The `RegistrationDetails` of `wamp.registration.get` and `wamp.registration.on_create`. */
export const registrationInfo = (r: Registration): Dict => ({ id: r.id, created: r.created, uri: r.uri, match: r.match, invoke: r.invoke });

/** The `SubscriptionDetails` of `wamp.subscription.get` and `wamp.subscription.on_create`. */
export const subscriptionInfo = (s: Subscription): Dict => ({ id: s.id, created: s.created, uri: s.uri, match: s.match });

/**
 * Publish a meta event from the router (no publisher) on `topic`. When no subscription matches the
 * topic nothing is built or sent: `args` is only called for a topic someone listens to.
 */
export function publishMeta(broker: Broker, topic: string, args: () => unknown[]): void {
  if (!broker.subscriptions.hasMatch(topic)) return;
  broker.publish(undefined, { type: MessageType.PUBLISH, requestId: 0, options: {}, topic, args: args() });
}

/**
 * Publish the registration and subscription lifecycle meta events of a realm:
 * `wamp.registration.on_create(session, RegistrationDetails)`, `on_register`, `on_unregister`,
 * `on_delete(session, registration_id)` and the same four for `wamp.subscription.*`, with the id of
 * the session that caused them (also when it is leaving). As in Crossbar.io, registrations and
 * subscriptions in the router's own `wamp.` namespace (the meta topics themselves) produce none.
 */
export function publishLifecycleEvents(dealer: Dealer, broker: Broker): void {
  dealer.onChange = (event, session, registration) => {
    if (registration.uri.startsWith('wamp.')) return;
    publishMeta(broker, `wamp.registration.on_${event}`, () =>
      [session.id, event === 'create' ? registrationInfo(registration) : registration.id]);
  };
  broker.onChange = (event, session, subscription) => {
    if (subscription.uri.startsWith('wamp.')) return;
    publishMeta(broker, `wamp.subscription.on_${event}`, () =>
      [session.id, event === 'create' ? subscriptionInfo(subscription) : subscription.id]);
  };
}
