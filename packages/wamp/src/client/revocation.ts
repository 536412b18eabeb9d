import type { Emitter } from '@rt/transport';
import { MessageType } from '../message-types.js';
import type { UnregisteredMessage, UnsubscribedMessage } from '../messages.js';
import type { ClientEvents } from './client.js';
import type { RegistrationTable } from './registrations.js';
import type { SubscriptionTable } from './subscriptions.js';

/** The `registration-revoked` event: the router took registration `id` of `procedure` away. */
export interface RegistrationRevoked {
  /** The revoked registration id. */
  id: number;
  /** The procedure URI (or pattern) it was registered for. */
  procedure: string;
  /** The reason the router gave, if any. */
  reason: string | undefined;
}

/** The `subscription-revoked` event: the router took subscription `id` to `topic` away. */
export interface SubscriptionRevoked {
  /** The revoked subscription id. */
  id: number;
  /** The topic URI (or pattern) it was subscribed to. */
  topic: string;
  /** The reason the router gave, if any. */
  reason: string | undefined;
}

/** The revocation events a client emits. */
export type RevocationEvents = {
  'registration-revoked': [RegistrationRevoked];
  'subscription-revoked': [SubscriptionRevoked];
};

/**
 * Handle UNREGISTERED / UNSUBSCRIBED with request id 0 (registration and subscription revocation):
 * forget the registration or subscription named in its details (so a reconnect does not make it
 * again) and emit `registration-revoked` / `subscription-revoked`. Ids this client does not hold
 * are ignored.
 */
export function handleRevocation(
  message: UnregisteredMessage | UnsubscribedMessage,
  registrations: RegistrationTable,
  subscriptions: SubscriptionTable,
  events: Emitter<ClientEvents>,
): void {
  const details = message.details ?? {};
  const reason = typeof details['reason'] === 'string' ? details['reason'] : undefined;
  if (message.type === MessageType.UNREGISTERED) {
    const id = details['registration'];
    const registration = typeof id === 'number' ? registrations.delete(id) : undefined;
    if (registration !== undefined) events.emit('registration-revoked', { id: id as number, procedure: registration.procedure, reason });
    return;
  }
  const id = details['subscription'];
  const subscription = typeof id === 'number' ? subscriptions.delete(id) : undefined;
  if (subscription !== undefined) events.emit('subscription-revoked', { id: id as number, topic: subscription.topic, reason });
}
