import { existsSync, readdirSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

// Workspace packages resolve to their TypeScript sources through this export condition,
// so tests never need a build first.
const sourceConditions = ['@rt/source', 'node', 'import', 'module', 'default'];

const packageNames = readdirSync('packages').filter((name) => existsSync(`packages/${name}/package.json`));

export default defineConfig({
  resolve: { conditions: sourceConditions },
  ssr: { resolve: { conditions: sourceConditions, externalConditions: ['@rt/source'] } },
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: packageNames.map((name) => ({
      extends: true,
      test: { name, root: `packages/${name}`, include: ['test/**/*.test.ts'] },
    })),
  },
});
