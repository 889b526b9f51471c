/**
 * Prints the pull-request plan comment for a plan JSON file.
 *
 *   node --import tsx scripts/plan-summary.ts <plan.json> [--text <plan.txt>] [--env <name>] [--run-url <url>]
 *   node --import tsx scripts/plan-summary.ts --failed <plan.log> [--env <name>] [--run-url <url>]
 *
 * `<plan.json>` is `terraform show -json <planfile>`; `--text` is `terraform show -no-color <planfile>`,
 * folded in as the full plan (without it, a listing built from the JSON is folded instead).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { isMain } from './lib/cli.ts';
import { summarizeFailure, summarizePlan } from './lib/plan-summary.ts';

/** Parses the arguments and returns the comment, or throws with a one-line usage message. */
export function planSummaryCli(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, read: (file: string) => string): string {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      text: { type: 'string' },
      env: { type: 'string' },
      'run-url': { type: 'string' },
      failed: { type: 'string' },
    },
  });
  const environment = values.env ?? env.ENV ?? 'dev';
  const runUrl = values['run-url'];
  const common = { environment, ...(runUrl ? { runUrl } : {}) };
  if (values.failed) return summarizeFailure(readOrExplain(read, values.failed, 'plan log'), common);
  const file = positionals[0];
  if (!file) throw new Error('usage: plan-summary.ts <plan.json> [--text plan.txt] [--env name] [--run-url url] | --failed <plan.log>');
  const raw = readOrExplain(read, file, 'plan JSON (make plan-offline writes cdktf.out/plan.json)');
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    throw new Error(`${file} is not JSON (${(error as Error).message}); pass the output of \`terraform show -json <planfile>\``);
  }
  const planText = values.text ? readOrExplain(read, values.text, 'plan text') : undefined;
  return summarizePlan(json, { ...common, ...(planText !== undefined ? { planText } : {}) });
}

function readOrExplain(read: (file: string) => string, file: string, what: string): string {
  try {
    return read(file);
  } catch {
    throw new Error(`cannot read ${file}: expected the ${what}`);
  }
}

if (isMain(import.meta.url)) {
  try {
    process.stdout.write(planSummaryCli(process.argv.slice(2), process.env, (f) => readFileSync(f, 'utf8')));
  } catch (error) {
    console.error(`plan-summary: ${(error as Error).message}`);
    process.exitCode = 1;
  }
}
