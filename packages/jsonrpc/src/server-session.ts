import type { MethodMap, UntypedMethods } from './method-map.js';
import { RPCSession } from './session.js';

/**
 * A session accepted by a `Server`, one per connection. Subclass it and override
 * `handleRequest`, or construct it with `{ handlers }` in the server's session factory.
 * Server sessions throttle their peer (cost hard limit 10000 by default).
 */
export class ServerSession<
  Remote extends MethodMap<Remote> = UntypedMethods,
  Local extends MethodMap<Local> = UntypedMethods,
> extends RPCSession<Remote, Local> {
  protected get isServer(): boolean {
    return true;
  }
}
