import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/** True when the module at `moduleUrl` is the script node was started with (Node 20 has no `import.meta.main`). */
export function isMain(moduleUrl: string): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return pathToFileURL(realpathSync(entry)).href === moduleUrl;
  } catch {
    return false;
  }
}

/** Exit codes of the operator commands: 0 done, 1 failed, 2 bad usage. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** Thrown for input a command refuses; its message is printed with the usage line. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * The table and region an operator command works on: `--table` or TABLE_NAME, `--region` or
 * AWS_REGION / AWS_DEFAULT_REGION, each checked for shape. `tableHint` is added to the message when the
 * table is missing. Throws {@link UsageError}.
 */
export function tableAndRegion(
  values: { readonly table?: string | undefined; readonly region?: string | undefined },
  env: Readonly<Record<string, string | undefined>>,
  tableHint = '',
): { tableName: string; region: string } {
  const tableName = (values.table ?? env.TABLE_NAME ?? '').trim();
  if (tableName === '') throw new UsageError(`Give the table with --table or TABLE_NAME${tableHint}.`);
  if (!/^[a-zA-Z0-9_.-]{3,255}$/.test(tableName)) throw new UsageError(`"${tableName}" is not a DynamoDB table name.`);
  const region = (values.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? '').trim();
  if (region === '') throw new UsageError('Give the region with --region or AWS_REGION.');
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) throw new UsageError(`"${region}" is not an AWS region.`);
  return { tableName, region };
}
