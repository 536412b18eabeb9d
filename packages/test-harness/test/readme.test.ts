import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readmeCodeBlocks, runReadmeQuickStart } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'rt-harness-readme-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A package directory holding only a README with the given text. */
function packageWithReadme(name: string, readme: string): string {
  const packageDir = join(dir, name);
  mkdirSync(packageDir);
  writeFileSync(join(packageDir, 'README.md'), readme);
  return packageDir;
}

const README = [
  '# demo',
  '',
  '```sh',
  'npm install demo',
  '```',
  '',
  '```ts',
  "import { join } from 'node:path';",
  'const parts: string[] = await Promise.resolve([\'a\', \'b\']);',
  "console.log(join(...parts), parts.length);",
  "console.log('done');",
  '```',
  '',
  'More text.',
  '',
  '```ts title="second"',
  "console.log('second block');",
  '```',
  '',
  '```tsx',
  'const x = <div />;',
  '```',
  '',
].join('\n');

describe('readmeCodeBlocks', () => {
  it('returns the blocks of one language, in order', async () => {
    const file = join(dir, 'blocks.md');
    writeFileSync(file, README);
    const blocks = await readmeCodeBlocks(file);
    expect(blocks).toHaveLength(2);
    expect(blocks[0]).toContain("import { join } from 'node:path';");
    expect(blocks[1]).toBe("console.log('second block');\n");
    expect(await readmeCodeBlocks(file, 'sh')).toEqual(['npm install demo\n']);
    expect(await readmeCodeBlocks(file, 'tsx')).toEqual(['const x = <div />;\n']);
  });
});

describe('runReadmeQuickStart', () => {
  it('runs the first ts block and collects its console.log calls', async () => {
    const packageDir = packageWithReadme('quick', README);
    const log = console.log;
    expect(await runReadmeQuickStart({ packageDir })).toEqual([[join('a', 'b'), 2], ['done']]);
    expect(await runReadmeQuickStart({ packageDir, block: 1 })).toEqual([['second block']]);
    expect(console.log).toBe(log);
  });

  it('rejects when the block is missing or throws, and restores console.log', async () => {
    const packageDir = packageWithReadme('broken', "```ts\nconsole.log('before');\nthrow new Error('quick start broke');\n```\n");
    const log = console.log;
    await expect(runReadmeQuickStart({ packageDir })).rejects.toThrow('quick start broke');
    expect(console.log).toBe(log);
    await expect(runReadmeQuickStart({ packageDir, block: 3 })).rejects.toThrow(/no ts code block #3/);
  });
});
