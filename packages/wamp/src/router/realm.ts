import { ErrorUri } from '../error-uris.js';
import type { Dict } from '../messages.js';
import { Broker, type Subscription } from './broker.js';
import { Dealer, type Registration } from './dealer.js';
import { addRevocationMeta, MetaError } from './revocation.js';
import { publishLifecycleEvents, publishMeta, registrationInfo, subscriptionInfo } from './meta-events.js';
import { sessionDetails, type Authorizer, type RoutedSession } from './session-info.js';
import { Testaments } from './testaments.js';

/** Options of a `Realm`. */
export interface RealmOptions {
  /** How many topics keep a retained event (default 10 000); beyond it the oldest retained event is dropped. */
  maxRetainedTopics?: number | undefined;
  /** The router's authorization hook, also asked when a session adds a testament (`publish` on its topic). */
  authorize?: Authorizer | undefined;
}


function byMatch<T extends { match: string; id: number }>(entries: T[]): Dict {
  return {
    exact: entries.filter((e) => e.match === 'exact').map((e) => e.id),
    prefix: entries.filter((e) => e.match === 'prefix').map((e) => e.id),
    wildcard: entries.filter((e) => e.match === 'wildcard').map((e) => e.id),
  };
}

/** A routing namespace: its sessions, dealer, broker, meta API and the sessions' testaments. */
export class Realm {
  readonly sessions = new Map<number, RoutedSession>();
  readonly dealer = new Dealer();
  readonly broker: Broker;
  /** The testaments sessions left (`wamp.session.add_testament`). */
  readonly testaments: Testaments;

  constructor(readonly name: string, options: RealmOptions = {}) {
    this.broker = new Broker(options.maxRetainedTopics);
    this.testaments = new Testaments(this.dealer, (session) => this.sessions.get(session.id) === session, options.authorize);
    this.#addSessionMeta();
    this.#addRegistrationMeta();
    this.#addSubscriptionMeta();
    addRevocationMeta(this.dealer, this.broker, this.sessions);
    publishLifecycleEvents(this.dealer, this.broker);
  }

  /** A session was welcomed: track it and publish `wamp.session.on_join`. */
  join(session: RoutedSession): void {
    this.sessions.set(session.id, session);
    publishMeta(this.broker, 'wamp.session.on_join', () => [sessionDetails(session)]);
  }

  /**
   * A session ended: drop its subscriptions (so it gets no more events), then its registrations
   * (with their meta events), publish its testaments (as its own publications, in order) and then
   * `wamp.session.on_leave`.
   */
  leave(session: RoutedSession): void {
    if (this.sessions.get(session.id) !== session) return;
    this.sessions.delete(session.id);
    const testaments = this.testaments.take(session);
    this.broker.detach(session);
    this.dealer.detach(session);
    for (const testament of testaments) this.broker.publish(session, testament);
    publishMeta(this.broker, 'wamp.session.on_leave', () => [session.id, session.authid, session.authrole]);
  }

  /** Publish the testaments of every session now (router shutdown, while the other sessions still listen). */
  publishTestaments(): void {
    for (const session of this.testaments.sessions()) {
      for (const testament of this.testaments.take(session)) this.broker.publish(session, testament);
    }
  }

  #addSessionMeta(): void {
    const filtered = (args: unknown[]): RoutedSession[] => {
      const roles = args[0];
      const all = [...this.sessions.values()];
      return Array.isArray(roles) ? all.filter((s) => roles.includes(s.authrole)) : all;
    };
    this.dealer.addInternal('wamp.session.count', (_caller, args) => filtered(args).length);
    this.dealer.addInternal('wamp.session.list', (_caller, args) => filtered(args).map((s) => s.id));
    this.dealer.addInternal('wamp.session.get', (_caller, args) => {
      const session = this.sessions.get(args[0] as number);
      if (session === undefined) throw new MetaError(ErrorUri.NO_SUCH_SESSION, 'no such session');
      return sessionDetails(session);
    });
    const killOptions = (kwargs: Dict): [string, string | undefined] => [
      typeof kwargs['reason'] === 'string' ? kwargs['reason'] : 'wamp.close.killed',
      typeof kwargs['message'] === 'string' ? kwargs['message'] : undefined,
    ];
    this.dealer.addInternal('wamp.session.kill', (caller, args, kwargs) => {
      const session = this.sessions.get(args[0] as number);
      if (session === undefined || session === caller) throw new MetaError(ErrorUri.NO_SUCH_SESSION, 'no such session');
      session.kill(...killOptions(kwargs));
      return null;
    });
    const killWhere = (caller: RoutedSession, kwargs: Dict, match: (s: RoutedSession) => boolean): number[] => {
      const victims = [...this.sessions.values()].filter((s) => s !== caller && match(s));
      for (const session of victims) session.kill(...killOptions(kwargs));
      return victims.map((s) => s.id);
    };
    this.dealer.addInternal('wamp.session.kill_by_authid', (caller, args, kwargs) => killWhere(caller, kwargs, (s) => s.authid === args[0]));
    this.dealer.addInternal('wamp.session.kill_by_authrole', (caller, args, kwargs) => killWhere(caller, kwargs, (s) => s.authrole === args[0]));
  }

  #addRegistrationMeta(): void {
    const table = this.dealer.registrations;
    const get = (id: unknown): Registration => {
      const registration = table.byId.get(id as number);
      if (registration === undefined) throw new MetaError(ErrorUri.NO_SUCH_REGISTRATION, 'no such registration');
      return registration;
    };
    this.dealer.addInternal('wamp.registration.list', () => byMatch(table.all()));
    this.dealer.addInternal('wamp.registration.lookup', (_c, args, kwargs) => {
      const options = (args[1] ?? kwargs['options'] ?? {}) as Dict;
      return table.get(args[0] as string, (options['match'] as 'exact' | undefined) ?? 'exact')?.id ?? null;
    });
    this.dealer.addInternal('wamp.registration.match', (_c, args) => table.best(args[0] as string)?.id ?? null);
    this.dealer.addInternal('wamp.registration.get', (_c, args) => registrationInfo(get(args[0])));
    this.dealer.addInternal('wamp.registration.list_callees', (_c, args) => get(args[0]).callees.map((c) => c.session.id));
    this.dealer.addInternal('wamp.registration.count_callees', (_c, args) => get(args[0]).callees.length);
  }

  #addSubscriptionMeta(): void {
    const table = this.broker.subscriptions;
    const get = (id: unknown): Subscription => {
      const subscription = table.byId.get(id as number);
      if (subscription === undefined) throw new MetaError(ErrorUri.NO_SUCH_SUBSCRIPTION, 'no such subscription');
      return subscription;
    };
    this.dealer.addInternal('wamp.subscription.list', () => byMatch(table.all()));
    this.dealer.addInternal('wamp.subscription.lookup', (_c, args, kwargs) => {
      const options = (args[1] ?? kwargs['options'] ?? {}) as Dict;
      return table.get(args[0] as string, (options['match'] as 'exact' | undefined) ?? 'exact')?.id ?? null;
    });
    this.dealer.addInternal('wamp.subscription.match', (_c, args) => {
      const found = table.matching(args[0] as string);
      return found.length === 0 ? null : found.map((s) => s.id);
    });
    this.dealer.addInternal('wamp.subscription.get', (_c, args) => subscriptionInfo(get(args[0])));
    this.dealer.addInternal('wamp.subscription.list_subscribers', (_c, args) => [...get(args[0]).subscribers].map((s) => s.id));
    this.dealer.addInternal('wamp.subscription.count_subscribers', (_c, args) => get(args[0]).subscribers.size);
  }
}
