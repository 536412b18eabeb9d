import type { CaseResult } from './runner.js';

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

function formatRate(value: number): string {
  return value >= 100 ? integer.format(value) : value.toPrecision(3);
}

function formatRatio(ratio: number): string {
  return `${ratio >= 0.1 ? ratio.toFixed(2) : ratio.toPrecision(2)}x`;
}

/** Spread of the rounds around the median, as a percentage: half the min-to-max range. */
function formatSpread(result: CaseResult): string {
  const spread = (Math.max(...result.samples) - Math.min(...result.samples)) / 2 / result.median;
  return `±${(spread * 100).toFixed(1)}%`;
}

/** Renders one scenario's results as a Markdown table (readable in a terminal, pasteable into BENCHMARKS.md). */
export function formatResultsTable(unit: string, baseline: string, results: readonly CaseResult[]): string {
  const extraKeys = [...new Set(results.flatMap((result) => Object.keys(result.extra)))];
  const header = ['case', `${unit}/s (median)`, 'spread', `ratio vs ${baseline}`, ...extraKeys];
  const rows = results.map((result) => [
    result.name,
    formatRate(result.median),
    formatSpread(result),
    formatRatio(result.ratio),
    ...extraKeys.map((key) => {
      const value = result.extra[key];
      return value === undefined ? '' : typeof value === 'number' ? formatRate(value) : value;
    }),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const rightAligned = (column: number): boolean => column > 0;
  const line = (cells: readonly string[]): string =>
    `| ${cells.map((cell, column) => (rightAligned(column) ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!))).join(' | ')} |`;
  const rule = `|${widths.map((width, column) => (rightAligned(column) ? `${'-'.repeat(width + 1)}:` : `:${'-'.repeat(width + 1)}`)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}
