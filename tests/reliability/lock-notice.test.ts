/**
 * The owner of a locked account is told once per lock, however hard the account is attacked. Parallel
 * sign-in attempts go through the real pre-authentication logic into dynalite behind the sandbox's
 * stream proxy; the stream's records pass the lock notice's real filter (infra/lock-notice-stream.ts)
 * into the sandbox's event source mapping, which invokes notify-lockout's real logic with Powertools
 * idempotency in the same table and a local SES. Every record that reached the function is then
 * delivered again, twice at once, as a retried batch would.
 */
import http from 'node:http';
import { expect } from 'chai';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import type { AdminGetUserCommand } from '@aws-sdk/client-cognito-identity-provider';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { BACKGROUND_BUDGET, clientConfig, SYNC_TRIGGER_BUDGET } from '../../functions/common/aws.ts';
import type { LockoutSettings } from '../../functions/common/config.ts';
import { UserFacingError } from '../../functions/common/errors.ts';
import { createDomainPolicy } from '../../functions/common/identity.ts';
import { idempotencyStore } from '../../functions/common/idempotency.ts';
import { handleLockRecords, noticeSender, type NotifyLockoutDeps, type RecordOutcome } from '../../functions/notify-lockout/logic.ts';
import { checkSignInAttempt } from '../../functions/pre-authentication/logic.ts';
import { LOCK_NOTICE_STREAM } from '../../infra/lock-notice-stream.ts';
import { TableStreamProxy } from '../../sandbox/dynamodb/stream.ts';
import { EventSourceMappings } from '../../sandbox/lambda/event-source-mapping.ts';
import * as ev from './lib/events.ts';
import { quietLogger } from '../fixtures/logs.ts';
import { formatMs, record } from './lib/figures.ts';
import { LOCAL_AWS, startDynamo, startSes, startTogether, type LocalDynamo, type LocalSes } from './lib/services.ts';

const SETTINGS: LockoutSettings = { maxAttempts: 5, windowSeconds: 900, lockSeconds: 300, escalate: false, maxLockSeconds: 3600, failMode: 'closed' };
const STREAM_ARN = 'arn:aws:dynamodb:us-east-1:123456789012:table/lock-notice/stream/reliability';
const QUEUE_ARN = 'arn:aws:sqs:us-east-1:123456789012:lock-notice-failures';

describe('reliability: one lock notice per lock under parallel attempts (real pre-authentication and notify-lockout logic, dynalite, stream filter)', function () {
  this.timeout(90_000);
  quietLogger();
  let dynamo: LocalDynamo;
  let ses: LocalSes;
  let tableStream: TableStreamProxy;
  let db: DynamoDBDocumentClient;
  let mappings: EventSourceMappings;
  let notifier: NotifyLockoutDeps;
  let sender: ReturnType<typeof noticeSender>;
  /** The pool's users by username, as AdminGetUser answers for them. */
  const pool = new Map<string, ev.Person>();
  /** Every record the mapping handed to notify-lockout, and what became of each. */
  const delivered: DynamoDBRecord[] = [];
  const outcomes: RecordOutcome[] = [];
  let streamed = 0;

  before(async () => {
    [dynamo, ses] = await startTogether(startDynamo('lock-notice', { inProcess: false }), startSes());
    tableStream = new TableStreamProxy({
      upstream: dynamo.endpoint,
      region: 'us-east-1',
      credentials: LOCAL_AWS.credentials,
      tables: [{ tableName: dynamo.tableName, streamArn: STREAM_ARN, viewType: 'NEW_IMAGE' }],
    });
    await tableStream.start();
    // One process stands in for many Lambda containers, so connections are pooled and timeouts relaxed;
    // the retry count is production's (see lockout-concurrency.test.ts).
    const raw = new DynamoDBClient({
      ...LOCAL_AWS,
      endpoint: tableStream.url,
      maxAttempts: SYNC_TRIGGER_BUDGET.maxAttempts,
      requestHandler: new NodeHttpHandler({ connectionTimeout: 10_000, requestTimeout: 30_000, httpAgent: new http.Agent({ keepAlive: true, maxSockets: 64 }) }),
    });
    db = DynamoDBDocumentClient.from(raw);
    notifier = {
      cognito: {
        send: async (command: AdminGetUserCommand) => {
          const user = pool.get(command.input.Username ?? '');
          if (!user) throw Object.assign(new Error('User does not exist.'), { name: 'UserNotFoundException' });
          return { Username: user.sub, UserAttributes: [{ Name: 'email', Value: user.email }, { Name: 'email_verified', Value: 'true' }] };
        },
      } as NotifyLockoutDeps['cognito'],
      ses: new SESv2Client({ ...LOCAL_AWS, endpoint: ses.endpoint, ...clientConfig(BACKGROUND_BUDGET) }),
      branding: { appName: 'Shire', appUrl: 'https://shire.example.com' },
      from: { address: 'no-reply@example.com', name: 'Shire' },
      resetUrl: 'https://shire.example.com/reset-password',
      domainPolicy: createDomainPolicy({ allowedDomains: ['gmail.com'], allowSubdomains: false }),
    };
    sender = noticeSender(notifier, idempotencyStore(dynamo.tableName, new DynamoDBClient({ ...LOCAL_AWS, endpoint: dynamo.endpoint })));
    mappings = new EventSourceMappings({
      mappings: [
        { ...LOCK_NOTICE_STREAM, functionName: 'notify-lockout', eventSourceArn: STREAM_ARN, functionResponseTypes: ['ReportBatchItemFailures'], bisectBatchOnFunctionError: true, onFailureDestinationArn: QUEUE_ARN },
      ],
      retryDelayMs: 20,
      batchingWindowScale: 0,
      functionArn: (name) => `arn:aws:lambda:us-east-1:123456789012:function:${name}`,
      invoke: async (_name, event) => {
        const records = (event as DynamoDBStreamEvent).Records;
        delivered.push(...records);
        const result = await handleLockRecords(event as DynamoDBStreamEvent, notifier, sender, ev.lambdaContext('notify-lockout', 20_000));
        outcomes.push(...result.outcomes);
        return { statusCode: 200, payload: { batchItemFailures: result.batchItemFailures } };
      },
    });
    tableStream.onRecords = (arn, records) => {
      streamed += records.length;
      mappings.deliver(arn, records);
    };
  });
  after(async () => {
    await mappings?.stop();
    db?.destroy();
    await tableStream?.stop();
    await Promise.all([dynamo?.stop(), ses?.stop()]);
  });

  /** Fires `attempts` attempts at each login at once: existing users, and logins Cognito reports as unknown. */
  async function flood(existing: ev.Person[], unknown: ev.Person[], attempts: number, settings = SETTINGS): Promise<{ ms: number; answers: Map<string, Set<string>> }> {
    const deps = { db, tableName: dynamo.tableName, settings, now: Date.now };
    const answers = new Map<string, Set<string>>([['existing', new Set()], ['unknown', new Set()]]);
    const t0 = performance.now();
    const attempt = async (p: ev.Person, userNotFound: boolean) => {
      try {
        await checkSignInAttempt(deps, ev.preAuthentication(p, userNotFound));
      } catch (error) {
        const answer = error instanceof UserFacingError ? `${error.name}: ${error.message}` : `not user-facing: ${String(error)}`;
        answers.get(userNotFound ? 'unknown' : 'existing')!.add(answer);
      }
    };
    await Promise.all([
      ...existing.flatMap((p) => Array.from({ length: attempts }, () => attempt(p, false))),
      ...unknown.flatMap((p) => Array.from({ length: attempts }, () => attempt({ ...p, sub: p.email }, true))),
    ]);
    const ms = performance.now() - t0;
    await mappings.settle();
    return { ms, answers };
  }

  /** Delivers every record the function received again, twice at once: what retried batches do. */
  async function redeliverTwice(): Promise<RecordOutcome[]> {
    const again = delivered.map((r, i) => ({ ...r, dynamodb: { ...r.dynamodb, SequenceNumber: `9${String(i).padStart(20, '0')}` } }));
    const runs = await Promise.all([0, 1].map(() => handleLockRecords({ Records: again }, notifier, sender, ev.lambdaContext('notify-lockout', 20_000))));
    return runs.flatMap((r) => r.outcomes);
  }

  const noticesTo = async (p: ev.Person) => (await ses.emailsTo(p.email)).length;

  it('sends exactly one email per locked existing account and none for unknown logins, under 100 parallel attempts on each of 10 logins and two concurrent re-deliveries', async () => {
    const existing = Array.from({ length: 5 }, (_, i) => ev.person(`owner${i}`));
    const unknown = Array.from({ length: 5 }, (_, i) => ev.person(`ghost${i}`));
    for (const p of existing) pool.set(p.sub, p);
    const { ms, answers } = await flood(existing, unknown, 100);
    const writes = streamed;
    const reached = delivered.length;
    const replayed = await redeliverTwice();
    const perOwner = await Promise.all(existing.map(noticesTo));
    const perGhost = await Promise.all(unknown.map(noticesTo));
    const failures = mappings.failures.get(QUEUE_ARN) ?? [];
    const sameAnswer = answers.get('existing')!.size === 1 && [...answers.get('existing')!].join() === [...answers.get('unknown')!].join();
    const ok =
      perOwner.every((n) => n === 1) && perGhost.every((n) => n === 0) && reached === existing.length && outcomes.every((o) => o === 'sent') &&
      replayed.every((o) => o === 'already-handled') && failures.length === 0 && sameAnswer;
    record({
      id: 'lockout.notice-per-lock',
      area: 'lockout',
      scenario: 'Owner notification: parallel attempts lock 5 existing accounts and 5 unknown logins; the table stream, the lock notice filter and notify-lockout (idempotent per lock) tell the owners',
      load: '100 attempts at once on each of 10 logins (limit 5); every record that reached notify-lockout delivered again twice, concurrently',
      expected: 'exactly 1 email per locked existing account, 0 for unknown logins; the filter passes only the 5 writes that engaged a lock; re-deliveries send nothing; the refusal is the same text for both kinds of login',
      measured:
        `emails per existing account ${[...new Set(perOwner)].join('/')}, per unknown login ${[...new Set(perGhost)].join('/')}; ` +
        `${reached} of ${writes} stream records reached notify-lockout; re-deliveries: ${replayed.filter((o) => o === 'already-handled').length} of ${replayed.length} already handled; ` +
        `refusal texts ${answers.get('existing')!.size + answers.get('unknown')!.size === 2 && sameAnswer ? 'identical' : 'differ'}; ${formatMs(ms)}`,
      ok,
    });
    expect(perOwner, 'emails per existing account').to.deep.equal([1, 1, 1, 1, 1]);
    expect(perGhost, 'emails per unknown login').to.deep.equal([0, 0, 0, 0, 0]);
    expect(writes, 'stream records of 1,000 attempts').to.be.greaterThan(500);
    expect(reached, 'records the filter passed').to.equal(existing.length);
    expect(outcomes).to.deep.equal(['sent', 'sent', 'sent', 'sent', 'sent']);
    expect(replayed).to.have.length(10).and.satisfy((xs: RecordOutcome[]) => xs.every((o) => o === 'already-handled'));
    expect(failures).to.deep.equal([]);
    expect(sameAnswer, JSON.stringify([...answers.entries()].map(([k, v]) => [k, [...v]]))).to.equal(true);
  });

  it('tells each successive lock of one account once: two locks, two emails, none from re-deliveries', async () => {
    const owner = ev.person('twice');
    pool.set(owner.sub, owner);
    const short = { ...SETTINGS, lockSeconds: 1, maxLockSeconds: 1 };
    const before = delivered.length;
    const t0 = performance.now();
    await flood([owner], [], 20, short);
    await new Promise((r) => setTimeout(r, 1_100));
    await flood([owner], [], 20, short);
    const ms = performance.now() - t0;
    await redeliverTwice();
    const emails = await ses.emailsTo(owner.email);
    const lockIds = new Set(delivered.slice(before).map((r) => r.dynamodb?.NewImage?.lockedBy?.S));
    const ok = emails.length === 2 && lockIds.size === 2 && delivered.length - before === 2;
    record({
      id: 'lockout.notice-successive-locks',
      area: 'lockout',
      scenario: 'Owner notification across locks: an account is locked, the lock ends, and it is locked again',
      load: '2 rounds of 20 parallel attempts on one account (limit 5, 1 s lock); every record re-delivered twice, concurrently',
      expected: '2 emails, one per lock (each lock has its own id), none from the re-deliveries',
      measured: `${emails.length} emails; ${lockIds.size} distinct locks reached notify-lockout; ${formatMs(ms)}`,
      ok,
    });
    expect(emails).to.have.length(2);
    expect(lockIds.size).to.equal(2);
    expect(delivered.length - before, 'records the filter passed').to.equal(2);
  });
});
