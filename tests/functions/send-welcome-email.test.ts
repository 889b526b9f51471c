import { DeleteItemCommand, DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { MessageRejected, SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Context, DynamoDBStreamEvent } from 'aws-lambda';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { expect } from 'chai';
import { handleWelcomeRecords, SEND_RESERVE_MS, welcomeRequest, welcomeSender, type SendWelcomeEmailDeps } from '../../functions/send-welcome-email/logic.ts';
import { EMAIL, NAME, POOL_ID, SUB, lambdaContext, pendingProfileImage, streamEvent, streamRecord } from '../fixtures/events.ts';
import { captureLogs, quietLogger } from '../fixtures/logs.ts';
import { MemoryPersistence } from '../fixtures/senders.ts';
import { withEnvironment } from '../fixtures/env.ts';

const TABLE = 'cognito-triggers-test';
const NOW = Date.UTC(2025, 4, 6, 7, 8, 9);
const AT = new Date(NOW).toISOString();
const OTHER_SUB = '0d3f5a7c-1111-4e2b-8c9d-0a1b2c3d4e5f';

describe('send-welcome-email', () => {
  quietLogger();
  // Created per suite and restored after it: client mocks patch the class prototype, which other suites mock too.
  let ddb: AwsClientStub<DynamoDBDocumentClient>;
  let ses: AwsClientStub<SESv2Client>;
  before(() => {
    ddb = mockClient(DynamoDBDocumentClient);
    ses = mockClient(SESv2Client);
  });
  after(() => {
    ddb.restore();
    ses.restore();
  });
  let store: MemoryPersistence;
  /** What each profile's welcomeEmail says, by sub, as the table holds it. */
  let marks: Map<string, string>;
  const mark = (input: { Key: { pk: string }; ExpressionAttributeValues: Record<string, string> }) => {
    marks.set(input.Key.pk.slice('USER#'.length), input.ExpressionAttributeValues[':sent']!);
    return {};
  };

  beforeEach(() => {
    ddb.reset();
    ses.reset();
    store = new MemoryPersistence();
    marks = new Map();
    ddb.on(UpdateCommand).callsFake(mark);
    ses.on(SendEmailCommand).resolves({ MessageId: 'welcome-1' });
  });

  function deps(): SendWelcomeEmailDeps {
    return {
      db: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' })),
      ses: new SESv2Client({ region: 'eu-west-1' }),
      tableName: TABLE,
      branding: { appName: 'Acme Notes', appUrl: 'https://notes.example.com' },
      from: { name: 'Acme Notes', address: 'no-reply@notes.example.com' },
      now: () => NOW,
    };
  }

  function run(event: DynamoDBStreamEvent, context: Context = lambdaContext('send-welcome-email')) {
    const d = deps();
    return handleWelcomeRecords(event, d, welcomeSender(d, store), context);
  }

  const rejected = () => new MessageRejected({ message: `Email address is not verified: ${EMAIL}`, $metadata: {} });
  const recipients = () => ses.commandCalls(SendEmailCommand).map((c) => c.args[0].input.Destination?.ToAddresses?.[0]);

  it('sends the welcome email to the address in the new profile image, without reading the table, and marks the profile SENT', async () => {
    const result = await run(streamEvent(streamRecord()));
    expect(result).to.deep.equal({ batchItemFailures: [], outcomes: ['sent'] });
    const sent = ses.commandCalls(SendEmailCommand);
    expect(sent).to.have.length(1);
    const input = sent[0]!.args[0].input;
    expect(input.Destination).to.deep.equal({ ToAddresses: [EMAIL] });
    expect(input.FromEmailAddress).to.equal('Acme Notes <no-reply@notes.example.com>');
    expect(input.Content?.Simple?.Subject?.Data).to.equal('Frodo Baggins, welcome to Acme Notes');
    expect(input.Content?.Simple?.Body?.Html?.Data).to.include('Hi Frodo Baggins,');
    const update = ddb.commandCalls(UpdateCommand)[0]!.args[0].input;
    expect(update).to.deep.include({ TableName: TABLE, Key: { pk: `USER#${SUB}`, sk: 'PROFILE' }, ConditionExpression: 'attribute_exists(pk)' });
    expect(update.ExpressionAttributeValues).to.deep.equal({ ':sent': 'SENT', ':at': AT });
    expect(ddb.calls().map((c) => c.args[0].constructor.name), 'one write, no read').to.deep.equal(['UpdateCommand']);
  });

  it('delivered twice (Lambda re-delivers records after a failed one), sends exactly one welcome email', async () => {
    const event = streamEvent(streamRecord());
    expect((await run(event)).outcomes).to.deep.equal(['sent']);
    expect(await run(event)).to.deep.equal({ batchItemFailures: [], outcomes: ['already-sent'] });
    expect(ses.commandCalls(SendEmailCommand)).to.have.length(1);
  });

  it('sends once when an earlier delivery sent but could not mark the profile, and marks it on the re-delivery', async () => {
    ddb.on(UpdateCommand).rejectsOnce(Object.assign(new Error('throttled'), { name: 'ProvisionedThroughputExceededException' })).callsFake(mark);
    const first = await captureLogs(() => run(streamEvent(streamRecord())));
    expect(first.lines.find((l) => l.message === 'Welcome email sent but not marked on the profile')).to.include({ level: 'WARN' });
    expect(marks.get(SUB)).to.equal(undefined);
    expect((await run(streamEvent(streamRecord()))).outcomes).to.deep.equal(['already-sent']);
    expect(ses.commandCalls(SendEmailCommand)).to.have.length(1);
    expect(marks.get(SUB)).to.equal('SENT');
  });

  it('reports a record whose send fails by its sequence number, so Lambda retries it, and the retry sends once', async () => {
    ses.on(SendEmailCommand).rejectsOnce(rejected()).resolves({ MessageId: 'm' });
    const event = streamEvent(streamRecord({ sequenceNumber: '4200' }));
    let first: unknown;
    const { lines } = await captureLogs(async () => {
      first = await run(event);
    });
    expect(first).to.deep.equal({ batchItemFailures: [{ itemIdentifier: '4200' }], outcomes: ['failed'] });
    expect(lines.find((l) => l.welcomeEmail === 'retrying')).to.include({ level: 'WARN', errorName: 'MessageRejected', emailDomain: 'gmail.com' });
    expect(marks.get(SUB), 'still PENDING').to.equal(undefined);
    expect(store.records.size, 'idempotency record released for the next attempt').to.equal(0);

    expect(await run(event)).to.deep.equal({ batchItemFailures: [], outcomes: ['sent'] });
    expect(await run(event)).to.deep.equal({ batchItemFailures: [], outcomes: ['already-sent'] });
    expect(ses.commandCalls(SendEmailCommand), '1 failed, then 1 delivered').to.have.length(2);
    // The re-delivery marks again: it cannot tell a finished send from one whose mark failed.
    expect(ddb.commandCalls(UpdateCommand), 'marked SENT by the send and by the re-delivery').to.have.length(2);
  });

  it('keeps going after a failed record: later records are sent, and only the failed one is reported', async () => {
    ses.on(SendEmailCommand).callsFake((input: { Destination: { ToAddresses: string[] } }) => {
      if (input.Destination.ToAddresses[0] === 'sam@gmail.com') throw rejected();
      return { MessageId: 'ok' };
    });
    const event = streamEvent(
      streamRecord({ sequenceNumber: '100' }),
      streamRecord({ sequenceNumber: '101', image: pendingProfileImage({ email: { S: 'sam@gmail.com' } }, 'sam-sub') }),
      streamRecord({ sequenceNumber: '102', image: pendingProfileImage({ email: { S: 'pippin@gmail.com' } }, OTHER_SUB) }),
    );
    const result = await run(event);
    expect(result).to.deep.equal({ batchItemFailures: [{ itemIdentifier: '101' }], outcomes: ['sent', 'failed', 'sent'] });
    expect(recipients()).to.deep.equal([EMAIL, 'sam@gmail.com', 'pippin@gmail.com']);
    // Lambda retries from 101, so 102 comes again: it is not sent twice.
    ses.on(SendEmailCommand).resolves({ MessageId: 'ok' });
    expect((await run(streamEvent(...event.Records.slice(1)))).outcomes).to.deep.equal(['sent', 'already-sent']);
    expect(recipients()).to.deep.equal([EMAIL, 'sam@gmail.com', 'pippin@gmail.com', 'sam@gmail.com']);
  });

  it('treats an unavailable idempotency store as a failed record, never as a reason to send twice', async () => {
    store.failNextPut = Object.assign(new Error('timeout'), { name: 'TimeoutError' });
    const event = streamEvent(streamRecord());
    expect((await run(event)).batchItemFailures).to.deep.equal([{ itemIdentifier: '100000000000000000001' }]);
    expect(ses.commandCalls(SendEmailCommand)).to.have.length(0);
    expect((await run(event)).outcomes).to.deep.equal(['sent']);
  });

  it('keys the welcome on pool and user: the same sub in another pool gets its own email', async () => {
    await run(streamEvent(streamRecord()));
    const other = streamRecord({ image: pendingProfileImage({ userPoolId: { S: 'eu-west-1_Other' } }) });
    expect((await run(streamEvent(other))).outcomes).to.deep.equal(['sent']);
    expect(ses.commandCalls(SendEmailCommand)).to.have.length(2);
  });

  it('greets by givenName when the profile has no name', async () => {
    const { name: _name, ...noName } = pendingProfileImage({ givenName: { S: 'Sam' } });
    await run(streamEvent(streamRecord({ image: noName })));
    expect(ses.commandCalls(SendEmailCommand)[0]!.args[0].input.Content?.Simple?.Body?.Text?.Data).to.match(/^Hi Sam,/);
  });

  describe('records that can never succeed are logged and dropped, not failed', () => {
    const { email: _email, ...noEmail } = pendingProfileImage();
    const { userPoolId: _pool, ...noPool } = pendingProfileImage();
    const cases: Array<[string, Parameters<typeof streamRecord>[0], string]> = [
      ['a MODIFY of the profile (the SENT mark, a sign-in)', { eventName: 'MODIFY' }, 'not-a-pending-profile'],
      ['a REMOVE', { eventName: 'REMOVE' }, 'not-a-pending-profile'],
      ['an INSERT of another kind of item', { image: { pk: { S: 'LOCKOUT#frodo@gmail.com' }, sk: { S: 'STATE' }, attempts: { N: '1' } } }, 'not-a-pending-profile'],
      ['a profile already SENT', { image: pendingProfileImage({ welcomeEmail: { S: 'SENT' } }) }, 'not-a-pending-profile'],
      ['a profile whose key and sub disagree', { image: pendingProfileImage({ sub: { S: OTHER_SUB } }) }, 'malformed'],
      ['a profile without a pool id', { image: noPool }, 'malformed'],
      ['a profile with a non-string sub', { image: pendingProfileImage({ sub: { N: '42' } }) }, 'malformed'],
      ['an image that is not DynamoDB JSON', { image: pendingProfileImage({ email: { X: 'what' } as never }) }, 'malformed'],
      ['a profile without an address', { image: noEmail }, 'no-email'],
      ['a profile with an unusable address', { image: pendingProfileImage({ email: { S: 'not an address' } }) }, 'no-email'],
    ];
    for (const [what, options, reason] of cases) {
      it(`${what}: ${reason}`, async () => {
        const { lines, error } = await captureLogs(async () => {
          expect(await run(streamEvent(streamRecord(options)))).to.deep.equal({ batchItemFailures: [], outcomes: [reason] });
        });
        expect(error).to.equal(undefined);
        expect(lines.find((l) => l.welcomeEmail === reason)).to.include({ level: reason === 'malformed' ? 'ERROR' : 'INFO' });
        expect(ses.calls()).to.have.length(0);
      });
    }

    it('an event without records, or no event at all', async () => {
      expect(await run(streamEvent())).to.deep.equal({ batchItemFailures: [], outcomes: [] });
      expect(await run(null as unknown as DynamoDBStreamEvent)).to.deep.equal({ batchItemFailures: [], outcomes: [] });
    });
  });

  it('reads the request a record carries: pool, sub, trimmed address, name or given name', () => {
    expect(welcomeRequest(streamRecord())).to.deep.equal({ userPoolId: POOL_ID, sub: SUB, email: EMAIL, name: NAME });
  });

  it('starts no send with less than the reserve left before the timeout, and reports the rest for a retry', async () => {
    let remaining = 20_000;
    const context: Context = { ...lambdaContext('send-welcome-email'), getRemainingTimeInMillis: () => remaining };
    ses.on(SendEmailCommand).callsFake(() => {
      remaining = SEND_RESERVE_MS - 1;
      return { MessageId: 'slow' };
    });
    const event = streamEvent(
      streamRecord({ sequenceNumber: '1' }),
      streamRecord({ sequenceNumber: '2', image: pendingProfileImage({}, OTHER_SUB) }),
      streamRecord({ sequenceNumber: '3', eventName: 'MODIFY' }),
      streamRecord({ sequenceNumber: '4', image: pendingProfileImage({}, 'sam-sub') }),
    );
    expect(await run(event, context)).to.deep.equal({
      batchItemFailures: [{ itemIdentifier: '2' }, { itemIdentifier: '4' }],
      outcomes: ['sent', 'not-attempted', 'not-a-pending-profile', 'not-attempted'],
    });
    expect(ses.commandCalls(SendEmailCommand)).to.have.length(1);
  });

  it('fails the whole batch when a record to send has no sequence number, since it could not be reported alone', async () => {
    const record = streamRecord();
    const { SequenceNumber: _s, ...withoutSequence } = record.dynamodb!;
    const error = await run(streamEvent({ ...record, dynamodb: withoutSequence })).catch((e: unknown) => e);
    expect(error).to.have.property('name', 'WelcomeNotSentError');
    expect(ses.calls()).to.have.length(0);
  });

  it('never logs the email address, the name or the sub in clear', async () => {
    ses.on(SendEmailCommand).rejectsOnce(rejected()).resolves({});
    const failed = await captureLogs(() => run(streamEvent(streamRecord())));
    const sent = await captureLogs(() => run(streamEvent(streamRecord(), streamRecord({ eventName: 'MODIFY' }))));
    for (const { output } of [failed, sent]) {
      expect(output.length).to.be.greaterThan(0);
      expect(output).to.not.include(EMAIL);
      expect(output).to.not.include('frodo');
      expect(output).to.not.include(NAME);
      expect(output).to.not.include(SUB);
    }
  });

  describe('handler', () => {
    let raw: AwsClientStub<DynamoDBClient>;
    withEnvironment({
      AWS_REGION: 'eu-west-1',
      AWS_LAMBDA_FUNCTION_NAME: 'send-welcome-email',
      TABLE_NAME: TABLE,
      APP_NAME: 'Acme Notes',
      APP_URL: 'https://notes.example.com',
      FROM_EMAIL_ADDRESS: 'no-reply@notes.example.com',
      FROM_EMAIL_NAME: 'Acme Notes',
    });
    before(() => {
      raw = mockClient(DynamoDBClient);
    });
    after(() => {
      raw.restore();
    });

    it('runs end to end: idempotency record in the shared table, one email, and exactly the partial batch response while SES fails', async () => {
      raw.reset();
      raw.on(PutItemCommand).resolves({});
      raw.on(UpdateItemCommand).resolves({});
      raw.on(DeleteItemCommand).resolves({});
      const { handler } = await import('../../functions/send-welcome-email/index.ts');
      ses.on(SendEmailCommand).rejectsOnce(rejected()).resolves({ MessageId: 'm' });
      const event = streamEvent(streamRecord({ sequenceNumber: '77' }));
      expect(await handler(event, lambdaContext('send-welcome-email'))).to.deep.equal({ batchItemFailures: [{ itemIdentifier: '77' }] });
      expect(await handler(event, lambdaContext('send-welcome-email'))).to.deep.equal({ batchItemFailures: [] });
      expect(ses.commandCalls(SendEmailCommand)).to.have.length(2);
      const record = raw.commandCalls(PutItemCommand)[0]!.args[0].input;
      expect(record.TableName).to.equal(TABLE);
      expect(record.Item?.pk).to.deep.equal({ S: 'idempotency#send-welcome-email' });
      expect(record.Item?.sk?.S).to.be.a('string').and.not.include(SUB);
      expect(record.Item).to.have.property('expiresAt');
      expect(JSON.stringify(raw.calls().map((c) => c.args[0].input))).to.not.include(EMAIL);
      expect(marks.get(SUB)).to.equal('SENT');
    });
  });
});
