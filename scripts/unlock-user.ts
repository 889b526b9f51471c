/**
 * Clears a login's sign-in lockout: the attempt counter, any lock in force and the escalation level.
 *
 *   make unlock USERNAME=frodo@gmail.com
 *   node --import tsx scripts/unlock-user.ts <login> [--table <name>] [--region <region>]
 *
 * The table comes from --table or TABLE_NAME, the region from --region, AWS_REGION or AWS_DEFAULT_REGION.
 * AWS_ENDPOINT_URL_DYNAMODB points it at a local DynamoDB (the sandbox). Pass the user's email: real
 * users are counted by their email attribute, whatever alias they typed.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { clearLockout, lockoutKey, normaliseLogin, type DocumentSender, type LockoutState } from '../functions/common/lockout.ts';
import { EXIT, tableAndRegion, UsageError } from './lib/cli.ts';

/** Exit codes: 0 done (cleared or nothing to clear), 1 failed, 2 bad usage. */
export { EXIT, UsageError };

const USAGE = 'Usage: unlock-user.ts <login (email)> [--table <name>] [--region <region>]   (or TABLE_NAME / AWS_REGION in the environment)';

/** What the command was asked to do. */
export interface UnlockRequest {
  readonly login: string;
  readonly tableName: string;
  readonly region: string;
}

/** Validates arguments and environment into a request, or throws {@link UsageError}. */
export function parseRequest(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): UnlockRequest {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], allowPositionals: true, strict: true, options: { table: { type: 'string' }, region: { type: 'string' } } });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { positionals, values } = parsed;
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'Give the login (the user\'s email) to unlock.' : 'Give exactly one login.');
  const raw = positionals[0]!;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(raw)) throw new UsageError('The login contains control characters.');
  const login = normaliseLogin(raw);
  if (login === '') throw new UsageError('The login is empty.');
  if (login.length > 2048) throw new UsageError('The login is longer than any Cognito username or email.');

  const { tableName, region } = tableAndRegion(values, env);
  return { login, tableName, region };
}

/** One line saying what was cleared, for a person to read. */
export function describeResult(request: UnlockRequest, previous: LockoutState | undefined, now: number): string {
  const where = `${lockoutKey(request.login).pk} in table ${request.tableName}`;
  if (!previous) return `Nothing to clear for ${request.login}: no sign-in attempts are recorded (${where}).`;
  const locked = previous.lockedUntil > now;
  const lock = locked
    ? `was locked until ${new Date(previous.lockedUntil).toISOString()}`
    : 'was not locked';
  return `Cleared sign-in lockout for ${request.login}: ${lock}; ${previous.attempts} attempt(s) in the current window, lock level ${previous.lockCount}, ${previous.refused} refused attempt(s) recorded (${where}).`;
}

/** Clears the lockout and returns the message to print. */
export async function unlock(db: DocumentSender, request: UnlockRequest, now: () => number = Date.now): Promise<string> {
  const previous = await clearLockout(db, request.tableName, request.login);
  return describeResult(request, previous, now());
}

/** The command: parses, clears, prints, and returns the exit code. */
export async function main(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  io: { out: (line: string) => void; err: (line: string) => void } = { out: console.log, err: console.error },
  makeDb: (region: string) => DocumentSender = (region) => DynamoDBDocumentClient.from(new DynamoDBClient({ region })),
): Promise<number> {
  let request: UnlockRequest;
  try {
    request = parseRequest(argv, env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.err(`unlock-user: ${error.message}`);
    io.err(USAGE);
    return EXIT.usage;
  }
  try {
    io.out(await unlock(makeDb(request.region), request));
    return EXIT.ok;
  } catch (error) {
    const name = error instanceof Error ? error.name : typeof error;
    const message = error instanceof Error ? error.message : String(error);
    io.err(`unlock-user: could not clear the lockout of ${request.login} in ${request.tableName} (${request.region}): ${name}: ${message}`);
    return EXIT.failed;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await main(process.argv.slice(2), process.env);
}
