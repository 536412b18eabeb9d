import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * The test runner starts Node with `--conditions import`, so `require('pg-pool')` inside `pg`
 * would pick pg-pool's ESM build and break `pg`. Seed the require cache so that request gets
 * pg-pool's CommonJS build, as it would outside the test runner.
 */
const requireFromPg = createRequire(createRequire(import.meta.url).resolve('pg'));
const chosen = requireFromPg.resolve('pg-pool');
if (chosen.endsWith('.mjs')) {
  const commonJs = join(dirname(chosen), '..', 'index.js');
  requireFromPg(commonJs);
  requireFromPg.cache[chosen] = requireFromPg.cache[commonJs];
}
