/**
 * The arguments of `make resend-welcome` (scripts/resend-welcome.ts): what to re-send, where, and the
 * defaults the stack's naming gives.
 */
import { parseArgs } from 'node:util';
import type { FunctionName } from '../../functions/catalog.ts';
import { tableAndRegion, UsageError } from './cli.ts';

/** The command's usage line, printed with a usage error. */
export const USAGE =
  'Usage: resend-welcome.ts [--older-than 15m] [--dry-run] [--function <name>] [--stream-arn <arn>] [--table <name>] [--region <region>]   (or TABLE_NAME / AWS_REGION / WELCOME_EMAIL_FUNCTION_NAME in the environment)';

/** What the event source mapping delivers at most per invocation (infra/welcome-email-stream.ts). */
export const BATCH_SIZE = 10;

/** Long enough that the stream's own first delivery (seconds after the confirmation) is never raced. */
export const DEFAULT_OLDER_THAN = '15m';

const WELCOME_FUNCTION: FunctionName = 'send-welcome-email';
/** The stack's table suffix (infra/stack.ts); the tests check it against the synthesized stack. */
const TABLE_SUFFIX = '-data';

/** What the command was asked to do. */
export interface ResendRequest {
  readonly tableName: string;
  readonly region: string;
  /** Only profiles confirmed longer ago than this are re-sent. */
  readonly olderThanMs: number;
  /** As the operator wrote it, for the output. */
  readonly olderThan: string;
  readonly dryRun: boolean;
  /** Undefined only in a dry run that could not derive it (a dry run invokes nothing). */
  readonly functionName: string | undefined;
  /** When absent, read from DescribeTable. */
  readonly streamArn?: string;
}

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `90s`, `15m`, `2h`, `3d` in milliseconds, or undefined. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d{1,6})([smhd])$/.exec(text.trim());
  return m ? Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS] : undefined;
}

/** send-welcome-email's deployed name for a table named the stack's way, or undefined. */
export function functionNameForTable(tableName: string): string | undefined {
  if (!tableName.endsWith(TABLE_SUFFIX) || tableName.length === TABLE_SUFFIX.length) return undefined;
  return `${tableName.slice(0, -TABLE_SUFFIX.length)}-${WELCOME_FUNCTION}`;
}

/** Validates arguments and environment into a request, or throws {@link UsageError}. */
export function parseRequest(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): ResendRequest {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: false,
      strict: true,
      options: {
        table: { type: 'string' },
        region: { type: 'string' },
        'older-than': { type: 'string' },
        'dry-run': { type: 'boolean' },
        function: { type: 'string' },
        'stream-arn': { type: 'string' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values } = parsed;

  const { tableName, region } = tableAndRegion(values, env, ' (make outputs prints table_name)');

  const olderThan = (values['older-than'] ?? DEFAULT_OLDER_THAN).trim();
  const olderThanMs = parseDuration(olderThan);
  if (olderThanMs === undefined) throw new UsageError(`--older-than takes a whole number with s, m, h or d (e.g. 15m, 2h), not "${olderThan}".`);

  const dryRun = values['dry-run'] === true;
  const given = (values.function ?? env.WELCOME_EMAIL_FUNCTION_NAME ?? '').trim();
  const functionName = given !== '' ? given : functionNameForTable(tableName);
  if (functionName === undefined && !dryRun) {
    throw new UsageError(`Give the function with --function or WELCOME_EMAIL_FUNCTION_NAME: "${tableName}" is not named like the stack's table (<stack>${TABLE_SUFFIX}).`);
  }
  // A name, a partial ARN or a full ARN, as Lambda's Invoke accepts them.
  if (functionName !== undefined && !/^(arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:)?[a-zA-Z0-9_-]{1,64}(:[a-zA-Z0-9$_-]+)?$/.test(functionName)) {
    throw new UsageError(`"${functionName}" is not a Lambda function name or ARN.`);
  }

  const streamArn = values['stream-arn']?.trim();
  if (streamArn !== undefined && !/^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table\/[a-zA-Z0-9_.-]{3,255}\/stream\/\S+$/.test(streamArn)) {
    throw new UsageError(`"${streamArn}" is not a DynamoDB stream ARN.`);
  }
  return { tableName, region, olderThanMs, olderThan, dryRun, functionName, ...(streamArn ? { streamArn } : {}) };
}

