// A room server in its own process, so tests can kill it (SIGKILL) and start it again.
// Usage: rooms-server.ts <directory> [redis url]: a file store in <directory>, and with a
// Redis URL a Redis room bus linking it to other servers.
import { bind, fileStore, websocket } from '../../src/node.js';
import { redisBus } from '../../src/redis-bus.js';

const [directory, redisUrl] = process.argv.slice(2);
if (!directory) throw new Error('usage: rooms-server.ts <directory> [redis url]');
const bus = redisUrl ? redisBus({ url: redisUrl, onError: (error) => console.error('bus error:', error.message) }) : undefined;
const server = await bind(websocket({ port: 0 }), { store: fileStore({ directory }), ...(bus ? { bus } : {}) });
process.stdout.write(`READY ${server.port}\n`);
process.on('SIGTERM', () => {
  void server
    .close()
    .then(() => bus?.close())
    .then(() => process.exit(0));
});
