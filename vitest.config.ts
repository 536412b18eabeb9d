import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Workspace packages resolve to their TypeScript sources through this export condition,
// so tests never need a build first. Vitest also hands these conditions to Node itself, so
// they must stay Node's own (no `import`/`module`, which would make `require` pick ESM builds).
const sourceConditions = ['@rt/source', 'node', 'development|production'];

const packageNames = readdirSync('packages').filter((name) => existsSync(`packages/${name}/package.json`));

export default defineConfig({
  ssr: { resolve: { conditions: sourceConditions, externalConditions: ['@rt/source'] } },
  test: {
    testTimeout: 30_000,
    setupFiles: [fileURLToPath(new URL('./tooling/test-runner/fast-check-seed.ts', import.meta.url))],
    hookTimeout: 60_000,
    projects: packageNames.map((name) => ({
      extends: true,
      test: { name, root: `packages/${name}`, include: ['test/**/*.test.ts'] },
    })),
  },
});
