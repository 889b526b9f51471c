import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient, ResourceNotFoundException } from '@aws-sdk/client-lambda';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { expect } from 'chai';
import { fingerprint } from '../../functions/common/logger.ts';
import { welcomeRequest } from '../../functions/send-welcome-email/logic.ts';
import { WELCOME_EMAIL_STREAM } from '../../infra/welcome-email-stream.ts';
import { passesFilters } from '../../sandbox/lambda/filter.ts';
import {
  BATCH_SIZE,
  EXIT,
  PROJECTED,
  UsageError,
  firstSequenceNumber,
  formatAge,
  functionNameForTable,
  main,
  parseDuration,
  parseRequest,
  streamEvent,
  type ResendClients,
} from '../../scripts/resend-welcome.ts';

const ENV = { TABLE_NAME: 'cognito-triggers-prod-data', AWS_REGION: 'eu-west-1' };
const NOW = Date.UTC(2025, 4, 6, 12, 0, 0);
const POOL = 'eu-west-1_AbCdEfGhI';
const STREAM_ARN = 'arn:aws:dynamodb:eu-west-1:123456789012:table/cognito-triggers-prod-data/stream/2025-05-01T00:00:00.000';

/** A PENDING profile as the scan's projection returns it, confirmed `minutesAgo` before NOW. */
function profile(n: number, minutesAgo = 60, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const sub = `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
  return {
    pk: `USER#${sub}`,
    sk: 'PROFILE',
    sub,
    userPoolId: POOL,
    email: `user${n}@gmail.com`,
    name: `User ${n}`,
    welcomeEmail: 'PENDING',
    confirmedAt: new Date(NOW - minutesAgo * 60_000).toISOString(),
    ...overrides,
  };
}
const subOf = (item: Record<string, unknown>) => item.sub as string;
/** A payload as the Lambda client returns it (the SDK's blob adapter: bytes that can turn into a string). */
const blob = (value: unknown) => {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  return Object.assign(bytes, { transformToString: () => new TextDecoder().decode(bytes) });
};
/** The event an InvokeCommand carried; the command sends the bytes this script encodes. */
const eventOf = (payload: unknown) => JSON.parse(new TextDecoder().decode(payload as Uint8Array)) as DynamoDBStreamEvent;

describe('resend-welcome', () => {
  describe('parseRequest', () => {
    it('defaults to 15 minutes and no dry run, derives the function from the stack-named table, and lets flags win over the environment', () => {
      expect(parseRequest([], ENV)).to.deep.equal({
        tableName: 'cognito-triggers-prod-data',
        region: 'eu-west-1',
        olderThanMs: 15 * 60_000,
        olderThan: '15m',
        dryRun: false,
        functionName: 'cognito-triggers-prod-send-welcome-email',
      });
      expect(
        parseRequest(['--table', 'other-data', '--region', 'us-east-2', '--older-than', '2h', '--dry-run', '--function', 'my-fn', '--stream-arn', STREAM_ARN], {
          ...ENV,
          WELCOME_EMAIL_FUNCTION_NAME: 'from-env',
        }),
      ).to.deep.equal({ tableName: 'other-data', region: 'us-east-2', olderThanMs: 7_200_000, olderThan: '2h', dryRun: true, functionName: 'my-fn', streamArn: STREAM_ARN });
      expect(parseRequest([], { ...ENV, WELCOME_EMAIL_FUNCTION_NAME: 'from-env' }).functionName).to.equal('from-env');
      expect(parseRequest([], { TABLE_NAME: 't-1-data', AWS_DEFAULT_REGION: 'ap-southeast-2' }).region).to.equal('ap-southeast-2');
      expect(parseRequest(['--dry-run'], { ...ENV, TABLE_NAME: 'custom' }).functionName, 'a dry run invokes nothing').to.equal(undefined);
    });

    it('refuses a missing or bad table, region, duration, function or stream ARN, positional arguments and unknown flags', () => {
      const refused: Array<[string[], Record<string, string>, RegExp]> = [
        [[], { AWS_REGION: 'eu-west-1' }, /--table or TABLE_NAME/],
        [['--table', 'bad table!'], ENV, /not a DynamoDB table name/],
        [[], { TABLE_NAME: 'users-data' }, /--region or AWS_REGION/],
        [['--region', 'mars'], ENV, /not an AWS region/],
        [['--older-than', '15'], ENV, /whole number with s, m, h or d/],
        [['--older-than=-5m'], ENV, /whole number/],
        [['--older-than', '1.5h'], ENV, /whole number/],
        [[], { ...ENV, TABLE_NAME: 'custom-table' }, /--function or WELCOME_EMAIL_FUNCTION_NAME/],
        [['--function', 'no spaces allowed'], ENV, /not a Lambda function name/],
        [['--stream-arn', 'arn:aws:sqs:eu-west-1:123456789012:queue'], ENV, /not a DynamoDB stream ARN/],
        [['frodo@gmail.com'], ENV, /positional/],
        [['--force'], ENV, /Unknown option/],
      ];
      for (const [argv, env, message] of refused) {
        expect(() => parseRequest(argv, env), argv.join(' ')).to.throw(UsageError, message);
      }
    });

    it('reads durations and the stack’s names', () => {
      expect([parseDuration('90s'), parseDuration('15m'), parseDuration('2h'), parseDuration('3d'), parseDuration('0s'), parseDuration('15 m')]).to.deep.equal([
        90_000, 900_000, 7_200_000, 259_200_000, 0, undefined,
      ]);
      expect(functionNameForTable('cognito-triggers-sandbox-data')).to.equal('cognito-triggers-sandbox-send-welcome-email');
      expect(functionNameForTable('-data')).to.equal(undefined);
      expect(functionNameForTable('users')).to.equal(undefined);
      expect([formatAge(40_000), formatAge(12 * 60_000), formatAge(4 * 3_600_000 + 5 * 60_000), formatAge(51 * 3_600_000), formatAge(-5)]).to.deep.equal([
        '40s',
        '12m',
        '4h 05m',
        '2d 3h',
        '0s',
      ]);
    });
  });

  it('builds INSERT records the welcome mapping’s filter passes and send-welcome-email reads as the profile, with unique digit sequence numbers', () => {
    const items = [profile(1), profile(2, 90, { givenName: 'Two' })];
    const event = streamEvent(
      items.map((item) => ({ sub: subOf(item), confirmedAt: item.confirmedAt as string, item })),
      { streamArn: STREAM_ARN, region: 'eu-west-1' },
      firstSequenceNumber(NOW),
    ) satisfies DynamoDBStreamEvent;
    expect(event.Records).to.have.length(2);
    const sequenceNumbers = event.Records.map((r) => r.dynamodb!.SequenceNumber!);
    expect(new Set(sequenceNumbers).size).to.equal(2);
    for (const s of sequenceNumbers) expect(s).to.match(/^\d{21}$/);
    event.Records.forEach((record, i) => {
      expect(record).to.deep.include({ eventName: 'INSERT', eventSource: 'aws:dynamodb', eventVersion: '1.1', awsRegion: 'eu-west-1', eventSourceARN: STREAM_ARN });
      expect(record.dynamodb!.StreamViewType).to.equal('NEW_IMAGE');
      expect(record.dynamodb!.Keys).to.deep.equal({ pk: { S: items[i]!.pk }, sk: { S: 'PROFILE' } });
      expect(record.dynamodb!.ApproximateCreationDateTime).to.equal(Math.floor(Date.parse(items[i]!.confirmedAt as string) / 1000));
      expect(unmarshall(record.dynamodb!.NewImage as Record<string, AttributeValue>)).to.deep.equal(items[i]);
      expect(passesFilters(WELCOME_EMAIL_STREAM.filterPatterns, record), 'the deployed mapping would deliver it').to.equal(true);
    });
    expect(welcomeRequest(event.Records[1]!)).to.deep.equal({ userPoolId: POOL, sub: subOf(items[1]!), email: 'user2@gmail.com', name: 'User 2' });
  });

  describe('against stubbed DynamoDB and Lambda', () => {
    let ddb: AwsClientStub<DynamoDBDocumentClient>;
    let lambda: AwsClientStub<LambdaClient>;
    let clients: ResendClients;
    let out: string[];
    let err: string[];
    const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) };
    const run = (argv: string[], env: Record<string, string> = ENV) => main(argv, env, io, () => clients, () => NOW);
    /** The events send-welcome-email was invoked with. */
    const invokedEvents = (): DynamoDBStreamEvent[] =>
      lambda.commandCalls(InvokeCommand).map((c) => eventOf(c.args[0].input.Payload));
    const answer = (response: DynamoDBBatchResponse) => ({ StatusCode: 200, Payload: blob(response) });
    /** Every output line, checked for addresses and names before the test looks at them. */
    const lines = () => {
      const all = [...out, ...err];
      for (const line of all) {
        expect(line, 'no email address in the output').to.not.match(/@/);
        expect(line, 'no name in the output').to.not.match(/User \d/);
      }
      return all;
    };

    before(() => {
      ddb = mockClient(DynamoDBDocumentClient);
      lambda = mockClient(LambdaClient);
      clients = { db: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' })), lambda: new LambdaClient({ region: 'eu-west-1' }) };
    });
    after(() => {
      ddb.restore();
      lambda.restore();
    });
    beforeEach(() => {
      ddb.reset();
      lambda.reset();
      out = [];
      err = [];
      ddb.on(DescribeTableCommand).resolves({ Table: { TableName: ENV.TABLE_NAME, LatestStreamArn: STREAM_ARN } });
      lambda.on(InvokeCommand).resolves(answer({ batchItemFailures: [] }));
    });

    it('scans for PENDING profiles older than the cut-off with a projection of what the function reads, following every page', async () => {
      ddb
        .on(ScanCommand)
        .resolvesOnce({ Items: [profile(2, 30)], LastEvaluatedKey: { pk: 'USER#x', sk: 'PROFILE' } })
        .resolvesOnce({ Items: [], LastEvaluatedKey: { pk: 'USER#y', sk: 'LOGIN#2025' } })
        .resolvesOnce({ Items: [profile(1, 120)] });
      expect(await run(['--older-than', '20m'])).to.equal(EXIT.ok);

      const scans = ddb.commandCalls(ScanCommand).map((c) => c.args[0].input);
      expect(scans).to.have.length(3);
      const cutoff = new Date(NOW - 20 * 60_000).toISOString();
      expect(scans[0]).to.deep.equal({
        TableName: ENV.TABLE_NAME,
        ProjectionExpression: '#pk, #sk, #sub, #userPoolId, #email, #name, #givenName, #welcomeEmail, #confirmedAt',
        FilterExpression: '#sk = :profile AND #welcomeEmail = :pending AND #confirmedAt < :cutoff',
        ExpressionAttributeNames: Object.fromEntries(PROJECTED.map((a) => [`#${a}`, a])),
        ExpressionAttributeValues: { ':profile': 'PROFILE', ':pending': 'PENDING', ':cutoff': cutoff },
      });
      expect(scans.map((s) => s.ExclusiveStartKey)).to.deep.equal([undefined, { pk: 'USER#x', sk: 'PROFILE' }, { pk: 'USER#y', sk: 'LOGIN#2025' }]);

      // Oldest first, across pages.
      const [event] = invokedEvents();
      expect(event!.Records.map((r) => r.dynamodb!.NewImage!.sub!.S)).to.deep.equal([subOf(profile(1)), subOf(profile(2))]);
      expect(lines()[0]).to.equal(`Found 2 PENDING welcome email(s) in ${ENV.TABLE_NAME} confirmed before ${cutoff} (older than 20m).`);
    });

    it('invokes synchronously in batches of at most 10, with the table’s stream ARN and sequence numbers unique across batches', async () => {
      ddb.on(ScanCommand).resolves({ Items: Array.from({ length: 23 }, (_, i) => profile(i + 1, 100 - i)) });
      expect(await run([])).to.equal(EXIT.ok);

      const calls = lambda.commandCalls(InvokeCommand).map((c) => c.args[0].input);
      expect(calls.map((c) => [c.FunctionName, c.InvocationType])).to.deep.equal(Array(3).fill(['cognito-triggers-prod-send-welcome-email', 'RequestResponse']));
      const events = invokedEvents();
      expect(events.map((e) => e.Records.length)).to.deep.equal([BATCH_SIZE, BATCH_SIZE, 3]);
      const records = events.flatMap((e) => e.Records);
      expect(new Set(records.map((r) => r.dynamodb!.SequenceNumber)).size).to.equal(23);
      expect(new Set(records.map((r) => r.eventID)).size).to.equal(23);
      for (const record of records) {
        expect(record.eventSourceARN).to.equal(STREAM_ARN);
        expect(typeof welcomeRequest(record), 'send-welcome-email would send it').to.equal('object');
      }
      expect(ddb.commandCalls(DescribeTableCommand).map((c) => c.args[0].input)).to.deep.equal([{ TableName: ENV.TABLE_NAME }]);
      const all = lines();
      expect(all).to.include('Found 23, delivered 23, failed 0 (3 invocation(s) of cognito-triggers-prod-send-welcome-email).');
      expect(all.at(-1)).to.match(/gets no second one: send-welcome-email's idempotency \(keyed on pool and sub, remembered 7 days\)/);
    });

    it('takes --stream-arn instead of DescribeTable, and fails plainly when the table reports no stream', async () => {
      ddb.on(ScanCommand).resolves({ Items: [profile(1)] });
      const given = STREAM_ARN.replace('2025-05-01', '2025-06-01');
      expect(await run(['--stream-arn', given])).to.equal(EXIT.ok);
      expect(ddb.commandCalls(DescribeTableCommand)).to.have.length(0);
      expect(invokedEvents()[0]!.Records[0]!.eventSourceARN).to.equal(given);

      ddb.on(DescribeTableCommand).resolves({ Table: { TableName: ENV.TABLE_NAME } });
      lambda.resetHistory();
      expect(await run([])).to.equal(EXIT.failed);
      expect(lines().at(-1)).to.match(/reports no stream \(LatestStreamArn\); give it with --stream-arn/);
      expect(lambda.commandCalls(InvokeCommand)).to.have.length(0);
    });

    it('reports the records the function returns in batchItemFailures as failed, by fingerprint, and exits 1', async () => {
      const items = [profile(1, 50), profile(2, 40), profile(3, 30)];
      ddb.on(ScanCommand).resolves({ Items: items });
      lambda.on(InvokeCommand).callsFake((input: { Payload: Uint8Array }) => {
        const event = eventOf(input.Payload);
        return answer({ batchItemFailures: [{ itemIdentifier: event.Records[1]!.dynamodb!.SequenceNumber! }] });
      });
      expect(await run([])).to.equal(EXIT.failed);
      const all = lines();
      const failed = all.filter((l) => l.startsWith('  failed '));
      expect(failed).to.have.length(1);
      expect(failed[0]).to.equal(`  failed ${fingerprint(subOf(items[1]!))} (confirmed 40m ago): send-welcome-email reported it in batchItemFailures (see its log lines with this correlation id)`);
      expect(all).to.include('Found 3, delivered 2, failed 1 (1 invocation(s) of cognito-triggers-prod-send-welcome-email).');
      expect(all).to.include('The failed ones stay PENDING; run the command again once the cause is fixed.');
    });

    it('counts a whole batch as failed on a FunctionError, an answer without batchItemFailures or an unknown identifier, and goes on with the next batch', async () => {
      const items = Array.from({ length: 14 }, (_, i) => profile(i + 1, 100 - i));
      ddb.on(ScanCommand).resolves({ Items: items });
      const crash = { StatusCode: 200, FunctionError: 'Unhandled', Payload: blob({ errorType: 'Runtime.ExitError', errorMessage: 'user1@gmail.com broke it' }) };
      lambda.on(InvokeCommand).resolvesOnce(crash).resolvesOnce(answer({ batchItemFailures: [] }));
      expect(await run([])).to.equal(EXIT.failed);
      let all = lines();
      expect(all.filter((l) => l.startsWith('  failed '))).to.have.length(10);
      expect(all.find((l) => l.startsWith('  failed '))).to.match(/the invocation failed \(FunctionError Unhandled, Runtime.ExitError\); the whole batch counts as failed$/);
      expect(all).to.include('Found 14, delivered 4, failed 10 (2 invocation(s) of cognito-triggers-prod-send-welcome-email).');

      for (const payload of [{ ok: true }, { batchItemFailures: [{ itemIdentifier: '1' }] }, { batchItemFailures: [{}] }]) {
        out = [];
        lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: blob(payload) });
        expect(await run([]), JSON.stringify(payload)).to.equal(EXIT.failed);
        all = lines();
        expect(all, JSON.stringify(payload)).to.include('Found 14, delivered 0, failed 14 (2 invocation(s) of cognito-triggers-prod-send-welcome-email).');
        expect(all.find((l) => l.startsWith('  failed ')), JSON.stringify(payload)).to.match(/the whole batch counts as failed$/);
      }
    });

    it('stops invoking once Invoke itself fails, counting the rest as not attempted', async () => {
      ddb.on(ScanCommand).resolves({ Items: Array.from({ length: 25 }, (_, i) => profile(i + 1)) });
      lambda.on(InvokeCommand).rejects(new ResourceNotFoundException({ message: 'Function not found', $metadata: {} }));
      expect(await run(['--function', 'wrong-name'])).to.equal(EXIT.failed);
      expect(lambda.commandCalls(InvokeCommand)).to.have.length(1);
      const all = lines();
      expect(all.filter((l) => l.endsWith('invoking wrong-name failed: ResourceNotFoundException'))).to.have.length(10);
      expect(all.filter((l) => l.endsWith('not attempted: invoking wrong-name had failed (ResourceNotFoundException)'))).to.have.length(15);
      expect(all).to.include('Found 25, delivered 0, failed 25 (1 invocation(s) of wrong-name).');
    });

    it('names, without sending, what the function would drop: no pool id, no usable address', async () => {
      const items = [profile(1), profile(2, 60, { userPoolId: undefined }), profile(3, 60, { email: 'not an address' })];
      ddb.on(ScanCommand).resolves({ Items: items.map((i) => Object.fromEntries(Object.entries(i).filter(([, v]) => v !== undefined))) });
      expect(await run([])).to.equal(EXIT.ok);
      expect(invokedEvents().map((e) => e.Records.map((r) => r.dynamodb!.NewImage!.sub!.S))).to.deep.equal([[subOf(items[0]!)]]);
      const all = lines();
      expect(all).to.include(`  skipped ${fingerprint(subOf(items[1]!))} (confirmed 1h 00m ago): the profile lacks userPoolId or its sub disagrees with its key; send-welcome-email would drop it (fix the profile by hand)`);
      expect(all.some((l) => l.startsWith(`  skipped ${fingerprint(subOf(items[2]!))} (confirmed 1h 00m ago): no usable email address`))).to.equal(true);
      expect(all).to.include('Found 3, delivered 1, failed 0, skipped 2 (1 invocation(s) of cognito-triggers-prod-send-welcome-email).');
    });

    it('in a dry run lists what it would re-send with its age and invokes nothing', async () => {
      ddb.on(ScanCommand).resolves({ Items: [profile(1, 16), profile(2, 3 * 60 + 7)] });
      expect(await run(['--dry-run'], { ...ENV, TABLE_NAME: 'custom-table' })).to.equal(EXIT.ok);
      expect(lambda.commandCalls(InvokeCommand)).to.have.length(0);
      expect(ddb.commandCalls(DescribeTableCommand)).to.have.length(0);
      const all = lines();
      expect(all.slice(1, 3)).to.deep.equal([`  would re-send ${fingerprint(subOf(profile(2)))} (confirmed 3h 07m ago)`, `  would re-send ${fingerprint(subOf(profile(1)))} (confirmed 16m ago)`]);
      expect(all).to.include('Dry run: nothing sent. 2 would be re-sent to send-welcome-email (give --function to run it for real).');
    });

    it('says when there is nothing to re-send, without asking for the stream or invoking', async () => {
      ddb.on(ScanCommand).resolves({ Items: [] });
      expect(await run([])).to.equal(EXIT.ok);
      expect(lines()).to.deep.equal([
        `Found 0 PENDING welcome email(s) in ${ENV.TABLE_NAME} confirmed before ${new Date(NOW - 15 * 60_000).toISOString()} (older than 15m).`,
        'Found 0, delivered 0, failed 0 (0 invocation(s) of cognito-triggers-prod-send-welcome-email).',
      ]);
      expect(lambda.commandCalls(InvokeCommand)).to.have.length(0);
      expect(ddb.commandCalls(DescribeTableCommand)).to.have.length(0);
    });

    it('exits 2 with the usage line for bad input, and 1 with the reason when the scan fails', async () => {
      expect(await run([], { AWS_REGION: 'eu-west-1' })).to.equal(EXIT.usage);
      expect(err).to.deep.equal([
        'resend-welcome: Give the table with --table or TABLE_NAME (make outputs prints table_name).',
        'Usage: resend-welcome.ts [--older-than 15m] [--dry-run] [--function <name>] [--stream-arn <arn>] [--table <name>] [--region <region>]   (or TABLE_NAME / AWS_REGION / WELCOME_EMAIL_FUNCTION_NAME in the environment)',
      ]);
      err = [];
      ddb.on(ScanCommand).rejects(Object.assign(new Error('User is not authorized to perform: dynamodb:Scan'), { name: 'AccessDeniedException' }));
      expect(await run([])).to.equal(EXIT.failed);
      expect(err).to.deep.equal([`resend-welcome: could not re-send the welcome emails of ${ENV.TABLE_NAME} (eu-west-1): AccessDeniedException: User is not authorized to perform: dynamodb:Scan`]);
    });
  });
});
