import { createServer } from 'node:http';

/** A loopback HTTP server a browser tab loads a test page and its scripts from. */
export interface PageServer extends AsyncDisposable {
  /** `http://127.0.0.1:<port>/`: an empty HTML page. */
  url: string;
  /** The port it listens on. */
  port: number;
  /** Stop listening and drop open connections. */
  close(): Promise<void>;
}

/**
 * Serve each of `scripts` (URL path → JavaScript, e.g. `{ '/rooms.js': bundle }`) and an empty
 * HTML page at every other path, on 127.0.0.1 and a free port. A page then loads a script with
 * `await import('/rooms.js')`.
 *
 * @param scripts - JavaScript by URL path
 */
export async function servePage(scripts: Readonly<Record<string, string>>): Promise<PageServer> {
  const server = createServer((request, response) => {
    const script = Object.hasOwn(scripts, request.url ?? '') ? scripts[request.url ?? ''] : undefined;
    if (script !== undefined) response.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
    else response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>rt</title>');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const close = async (): Promise<void> => {
    if (!server.listening) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  };
  return { url: `http://127.0.0.1:${port}/`, port, close, [Symbol.asyncDispose]: close };
}
