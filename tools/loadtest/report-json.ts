import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { renderHtml } from './report-html';
import type { LoadTestResult } from './result';

export function renderJson(result: LoadTestResult): string {
  return `${JSON.stringify(result, null, 2)}\n`;
}

/** results/loadtest-20261123T101010Z: from the run's start, safe in any file system. */
export function reportBaseName(result: LoadTestResult): string {
  return `loadtest-${result.startedAt.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`;
}

/** Writes <out>/loadtest-<time>.json and .html; returns both paths. */
export async function writeReports(
  result: LoadTestResult,
  outDir: string,
): Promise<{ json: string; html: string }> {
  await mkdir(outDir, { recursive: true });
  const base = path.join(outDir, reportBaseName(result));
  const files = { json: `${base}.json`, html: `${base}.html` };
  await writeFile(files.json, renderJson(result));
  await writeFile(files.html, renderHtml(result));
  return files;
}
