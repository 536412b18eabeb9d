import fc from 'fast-check';

// With CI set, property tests draw from one fixed seed, so whether a change lands never hinges
// on a rare random draw; elsewhere every run explores new inputs. FC_SEED picks a seed by hand
// (for example to replay the seed a failure printed).
const seed = process.env['FC_SEED'] ?? (process.env['CI'] ? '20261122' : undefined);
if (seed !== undefined) fc.configureGlobal({ seed: Number(seed) });
