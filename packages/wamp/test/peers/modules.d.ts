// Minimal typings for the untyped Autobahn|JS package used by the interop tests and benchmark.
declare module 'autobahn' {
  interface AutobahnSession {
    id: number;
    register(procedure: string, endpoint: (args: unknown[], kwargs: Record<string, unknown>, details: { progress?: (args: unknown[]) => void }) => unknown, options?: Record<string, unknown>): Promise<unknown>;
    call(procedure: string, args?: unknown[], kwargs?: Record<string, unknown>, options?: Record<string, unknown>): PromiseLike<unknown> & {
      then(ok: (value: unknown) => unknown, err?: (error: unknown) => unknown, progress?: (value: unknown) => void): PromiseLike<unknown>;
    };
    publish(topic: string, args?: unknown[], kwargs?: Record<string, unknown>, options?: Record<string, unknown>): Promise<unknown> | undefined;
    subscribe(topic: string, handler: (args: unknown[], kwargs: Record<string, unknown>, details: Record<string, unknown>) => void, options?: Record<string, unknown>): Promise<unknown>;
  }
  interface AutobahnConnection {
    onopen: (session: AutobahnSession) => void;
    onclose: (reason: string, details: unknown) => boolean | void;
    open(): void;
    close(): void;
  }
  interface AutobahnModule {
    Connection: new (options: Record<string, unknown>) => AutobahnConnection;
    Error: new (error: string, args?: unknown[], kwargs?: Record<string, unknown>) => Error;
    serializer: { JSONSerializer: new () => unknown; MsgpackSerializer: new () => unknown; CBORSerializer: new () => unknown };
  }
  const autobahn: AutobahnModule;
  export default autobahn;
}
