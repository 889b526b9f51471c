/**
 * Re-sends the welcome emails still PENDING: the operator's answer to messages in the welcome email's
 * failure queue, after an SES incident outlasted the stream's retries (10 retries, 1 hour).
 *
 *   make resend-welcome [OLDER_THAN=15m] [DRY_RUN=1]
 *   node --import tsx scripts/resend-welcome.ts [--older-than 15m] [--dry-run] [--function <name>]
 *       [--stream-arn <arn>] [--table <name>] [--region <region>]
 *
 * It finds the profiles (`sk = PROFILE`) whose `welcomeEmail` is still `PENDING` and whose `confirmedAt`
 * is older than --older-than, and delivers them to send-welcome-email exactly as the table's event
 * source mapping does: a synchronous invocation with a `DynamoDBStreamEvent` of up to 10 INSERT records
 * carrying the profile as the new image. The function is the only sender, so its idempotency (keyed on
 * pool and sub, remembered 7 days) holds: a user whose email went out in the meantime gets no second one.
 *
 * The table comes from --table or TABLE_NAME, the region from --region, AWS_REGION or AWS_DEFAULT_REGION.
 * The function from --function, WELCOME_EMAIL_FUNCTION_NAME, or the stack's naming (infra/stack.ts:
 * table `<stack>-data`, functions `<stack>-<name>`). The stream ARN from --stream-arn or DescribeTable.
 * AWS_ENDPOINT_URL_DYNAMODB and AWS_ENDPOINT_URL_LAMBDA point it at the sandbox. Output names users by
 * the fingerprint of their sub only, the one their log lines carry as correlation id; never an address.
 */
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { fingerprint } from '../functions/common/logger.ts';
import { welcomeRequest, WELCOME_MEMORY_SECONDS, type DroppedRecord } from '../functions/send-welcome-email/logic.ts';
import { EXIT, isMain, UsageError } from './lib/cli.ts';
import { findPending, firstSequenceNumber, streamEvent, streamImage, type PendingProfile, type ResendClients } from './lib/resend-records.ts';
import { BATCH_SIZE, parseRequest, USAGE, type ResendRequest } from './lib/resend-request.ts';

/** Exit codes: 0 done (everything found was delivered, or nothing was found), 1 something failed, 2 bad usage. */
export { EXIT, UsageError };
export * from './lib/resend-records.ts';
export * from './lib/resend-request.ts';

/** How one profile fared. */
export interface Outcome {
  readonly fingerprint: string;
  readonly confirmedAt: string;
  readonly result: 'delivered' | 'failed' | 'skipped' | 'would-resend';
  /** Why it failed or was skipped. */
  readonly reason?: string;
}

/** What a run did. */
export interface ResendReport {
  readonly cutoff: string;
  readonly found: number;
  readonly outcomes: readonly Outcome[];
  readonly invocations: number;
  readonly dryRun: boolean;
}

/** The invocation's outcome for the batch's sequence numbers: the failed ones and why, or one reason for all. */
function judgeResponse(
  response: { FunctionError?: string; Payload?: Uint8Array; StatusCode?: number },
  sequenceNumbers: readonly string[],
): { failed: Map<string, string> } {
  const all = (reason: string) => ({ failed: new Map(sequenceNumbers.map((s) => [s, reason])) });
  let payload: unknown;
  try {
    payload = response.Payload && response.Payload.length > 0 ? JSON.parse(new TextDecoder().decode(response.Payload)) : undefined;
  } catch {
    payload = undefined;
  }
  if (response.FunctionError) {
    // Only the error's type: its message is the function's and could quote anything.
    const type = payload && typeof payload === 'object' && typeof (payload as { errorType?: unknown }).errorType === 'string' ? (payload as { errorType: string }).errorType : 'unknown';
    return all(`the invocation failed (FunctionError ${response.FunctionError.slice(0, 40)}, ${type.slice(0, 80)}); the whole batch counts as failed`);
  }
  const failures = (payload as { batchItemFailures?: unknown } | undefined)?.batchItemFailures;
  if (!Array.isArray(failures)) return all('the function answered without batchItemFailures; the whole batch counts as failed');
  const failed = new Map<string, string>();
  for (const failure of failures) {
    const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    // Lambda treats an unknown or empty identifier as the whole batch failing; so does this.
    if (typeof id !== 'string' || !sequenceNumbers.includes(id)) return all('the function reported a record that is not in the batch; the whole batch counts as failed');
    failed.set(id, 'send-welcome-email reported it in batchItemFailures (see its log lines with this correlation id)');
  }
  // Unlike the mapping, records after a failed one are not retried: the function tries every record and reports each failure.
  return { failed };
}

/**
 * Finds the PENDING profiles older than the cut-off and, unless it is a dry run, delivers them to
 * send-welcome-email in batches of {@link BATCH_SIZE}, one synchronous invocation at a time (so SES
 * sees no more than the mapping would send). Stops invoking after an Invoke call itself fails
 * (permissions, a wrong function name), counting the rest as failed.
 */
export async function resend(clients: ResendClients, request: ResendRequest, now: () => number = Date.now): Promise<ResendReport> {
  const started = now();
  const cutoff = new Date(started - request.olderThanMs).toISOString();
  const pending = await findPending(clients.db, request.tableName, cutoff);
  const outcomes: Outcome[] = [];
  const sendable: PendingProfile[] = [];

  // What the function would drop without sending is named here, instead of being counted as delivered.
  for (const profile of pending) {
    const verdict = welcomeRequest({ eventName: 'INSERT', dynamodb: { NewImage: streamImage(profile.item) } });
    if (typeof verdict === 'string') outcomes.push({ fingerprint: fingerprint(profile.sub), confirmedAt: profile.confirmedAt, result: 'skipped', reason: whySkipped(verdict) });
    else sendable.push(profile);
  }
  if (request.dryRun || sendable.length === 0) {
    for (const profile of sendable) outcomes.push({ fingerprint: fingerprint(profile.sub), confirmedAt: profile.confirmedAt, result: request.dryRun ? 'would-resend' : 'delivered' });
    return { cutoff, found: pending.length, outcomes, invocations: 0, dryRun: request.dryRun };
  }

  const functionName = request.functionName!;
  let streamArn = request.streamArn;
  if (!streamArn) {
    const table = await clients.db.send(new DescribeTableCommand({ TableName: request.tableName }));
    streamArn = table.Table?.LatestStreamArn;
    if (!streamArn) throw new Error(`Table ${request.tableName} reports no stream (LatestStreamArn); give it with --stream-arn`);
  }

  let next = firstSequenceNumber(started);
  let invocations = 0;
  let stopped: string | undefined;
  for (let i = 0; i < sendable.length; i += BATCH_SIZE) {
    const batch = sendable.slice(i, i + BATCH_SIZE);
    const mark = (failed: Map<string, string>, sequenceNumbers: readonly string[]) =>
      batch.forEach((profile, j) => {
        const reason = failed.get(sequenceNumbers[j]!);
        outcomes.push({ fingerprint: fingerprint(profile.sub), confirmedAt: profile.confirmedAt, result: reason ? 'failed' : 'delivered', ...(reason ? { reason } : {}) });
      });
    const event = streamEvent(batch, { streamArn, region: request.region }, next);
    next += BigInt(batch.length);
    const sequenceNumbers = event.Records.map((r) => r.dynamodb!.SequenceNumber!);
    if (stopped) {
      mark(new Map(sequenceNumbers.map((s) => [s, stopped!])), sequenceNumbers);
      continue;
    }
    try {
      invocations++;
      const response = await clients.lambda.send(
        new InvokeCommand({ FunctionName: functionName, InvocationType: 'RequestResponse', Payload: new TextEncoder().encode(JSON.stringify(event)) }),
      );
      mark(judgeResponse(response, sequenceNumbers).failed, sequenceNumbers);
    } catch (error) {
      const name = error instanceof Error ? error.name : typeof error;
      mark(new Map(sequenceNumbers.map((s) => [s, `invoking ${functionName} failed: ${name}`])), sequenceNumbers);
      stopped = `not attempted: invoking ${functionName} had failed (${name})`;
    }
  }
  return { cutoff, found: pending.length, outcomes, invocations, dryRun: false };
}

function whySkipped(verdict: DroppedRecord): string {
  switch (verdict) {
    case 'no-email':
      return 'no usable email address on the profile; send-welcome-email would drop it (fix the profile, or set welcomeEmail to SENT)';
    case 'malformed':
      return 'the profile lacks userPoolId or its sub disagrees with its key; send-welcome-email would drop it (fix the profile by hand)';
    case 'not-a-pending-profile':
      return 'not a PENDING profile any more';
  }
}

/** `2d 3h`, `4h 05m`, `12m`, `40s`: how long ago a profile was confirmed. */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m`;
  return `${s}s`;
}

const IDEMPOTENCY_NOTE = `A user whose welcome email went out in the meantime gets no second one: send-welcome-email's idempotency (keyed on pool and sub, remembered ${WELCOME_MEMORY_SECONDS / 86_400} days) recognises it.`;

/** The lines to print, for a person to read. No email address, no name: users appear as the fingerprint of their sub. */
export function describeReport(request: ResendRequest, report: ResendReport, now: number): string[] {
  const target = request.functionName ?? `send-welcome-email (give --function to run it for real)`;
  const lines = [`Found ${report.found} PENDING welcome email(s) in ${request.tableName} confirmed before ${report.cutoff} (older than ${request.olderThan}).`];
  const age = (o: Outcome) => `confirmed ${formatAge(now - Date.parse(o.confirmedAt))} ago`;
  for (const o of report.outcomes) {
    if (o.result === 'skipped') lines.push(`  skipped ${o.fingerprint} (${age(o)}): ${o.reason}`);
    else if (o.result === 'would-resend') lines.push(`  would re-send ${o.fingerprint} (${age(o)})`);
    else if (o.result === 'failed') lines.push(`  failed ${o.fingerprint} (${age(o)}): ${o.reason}`);
  }
  const count = (r: Outcome['result']) => report.outcomes.filter((o) => o.result === r).length;
  const skipped = count('skipped') > 0 ? `, skipped ${count('skipped')}` : '';
  if (report.dryRun) {
    lines.push(`Dry run: nothing sent. ${count('would-resend')} would be re-sent to ${target}${skipped}.`);
  } else {
    lines.push(`Found ${report.found}, delivered ${count('delivered')}, failed ${count('failed')}${skipped} (${report.invocations} invocation(s) of ${target}).`);
    if (count('failed') > 0) lines.push('The failed ones stay PENDING; run the command again once the cause is fixed.');
  }
  if (report.found > 0) lines.push(IDEMPOTENCY_NOTE);
  return lines;
}

/** The command: parses, re-sends, prints, and returns the exit code. */
export async function main(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  io: { out: (line: string) => void; err: (line: string) => void } = { out: console.log, err: console.error },
  makeClients: (region: string) => ResendClients = (region) => ({
    db: DynamoDBDocumentClient.from(new DynamoDBClient({ region })),
    lambda: new LambdaClient({ region }),
  }),
  now: () => number = Date.now,
): Promise<number> {
  let request: ResendRequest;
  try {
    request = parseRequest(argv, env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.err(`resend-welcome: ${error.message}`);
    io.err(USAGE);
    return EXIT.usage;
  }
  try {
    const report = await resend(makeClients(request.region), request, now);
    for (const line of describeReport(request, report, now())) io.out(line);
    return report.outcomes.some((o) => o.result === 'failed') ? EXIT.failed : EXIT.ok;
  } catch (error) {
    const name = error instanceof Error ? error.name : typeof error;
    const message = error instanceof Error ? error.message : String(error);
    io.err(`resend-welcome: could not re-send the welcome emails of ${request.tableName} (${request.region}): ${name}: ${message}`);
    return EXIT.failed;
  }
}

if (isMain(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2), process.env);
}
