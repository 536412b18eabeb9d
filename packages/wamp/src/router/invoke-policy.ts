import type { RoutedSession } from './session-info.js';

/** How a shared registration picks its callee. */
export type InvokePolicy = 'single' | 'roundrobin' | 'random' | 'first' | 'last';

/** One callee of a registration. */
export interface Callee {
  session: RoutedSession;
  discloseCaller: boolean;
  created: number;
}

/** What the invoke policies need of a registration: its callees (oldest first) and the round-robin cursor. */
export interface CalleeQueue {
  readonly invoke: InvokePolicy;
  callees: Callee[];
  next: number;
}

/**
 * Pick the callee for a call by the registration's invoke policy. Callees in `skip` (those that
 * answered `wamp.error.unavailable` for this call) count as absent, as call re-routing asks:
 * `roundrobin` goes on to the next callee in the queue, `random` draws among the others, `first`
 * and `last` take the oldest and newest of the rest. `undefined` when no callee is left.
 */
export function pickCallee(registration: CalleeQueue, skip?: ReadonlySet<RoutedSession>): Callee | undefined {
  const all = registration.callees;
  const callees = skip === undefined || skip.size === 0 ? all : all.filter((c) => !skip.has(c.session));
  if (callees.length === 0) return undefined;
  switch (registration.invoke) {
    case 'roundrobin': {
      const count = all.length;
      for (let step = 0; step < count; step++) {
        const index = (registration.next + step) % count;
        const callee = all[index] as Callee;
        if (skip?.has(callee.session) === true) continue;
        registration.next = (index + 1) % count;
        return callee;
      }
      return undefined;
    }
    case 'random':
      return callees[Math.floor(Math.random() * callees.length)];
    case 'last':
      return callees[callees.length - 1];
    default:
      return callees[0];
  }
}
