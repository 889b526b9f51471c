/**
 * The reminder task: reminds only users AdminGetUser still reports UNCONFIRMED, tells the workflow whether
 * the account is pending, sorts failures into retryable (`TransientError`) and final, and sends one
 * reminder however often Step Functions replays the task.
 */
import { DeleteItemCommand, DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { AdminGetUserCommand, CognitoIdentityProviderClient, UserNotFoundException, type UserStatusType } from '@aws-sdk/client-cognito-identity-provider';
import { MessageRejected, SendEmailCommand, SESv2Client, TooManyRequestsException } from '@aws-sdk/client-sesv2';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import type { Context } from 'aws-lambda';
import { expect } from 'chai';
import { InvalidTaskInput, TransientError, isTransient, parseTaskInput } from '../../functions/common/workflow-task.ts';
import { REMINDER_MEMORY_SECONDS, reminderSender, sendReminder, type ReminderSender } from '../../functions/send-reminder/logic.ts';
import { EMAIL, NAME, POOL_ID, SUB, lambdaContext } from '../fixtures/events.ts';
import { MemoryPersistence } from '../fixtures/senders.ts';
import { rejection } from '../fixtures/promises.ts';
import { captureLogs, quietLogger } from '../fixtures/logs.ts';
import { withEnvironment } from '../fixtures/env.ts';

// Created per suite and restored after it: client mocks patch the class prototype for the whole process.
let cognito: AwsClientStub<CognitoIdentityProviderClient>;
let ses: AwsClientStub<SESv2Client>;
const INPUT = { userPoolId: POOL_ID, username: SUB };
const deps = () => ({
  cognito: new CognitoIdentityProviderClient({ region: 'eu-west-1' }),
  ses: new SESv2Client({ region: 'eu-west-1' }),
  branding: { appName: 'Middle-earth Mail', appUrl: 'https://example.com' },
  from: { address: 'no-reply@example.com', name: 'Middle-earth Mail' },
});
const meta = { $metadata: {} };
// A fresh idempotency store per test, so each test starts as a task nobody has run yet.
let store: MemoryPersistence;
let sender: ReminderSender;
const remind = (input: unknown, context: Context = lambdaContext('send-reminder')) => sendReminder(input, deps(), sender, context);

function userIs(UserStatus: UserStatusType, extra: { Enabled?: boolean; email?: string | null } = {}) {
  const attributes = [
    { Name: 'sub', Value: SUB },
    { Name: 'name', Value: NAME },
    ...(extra.email === null ? [] : [{ Name: 'email', Value: extra.email ?? EMAIL }]),
    { Name: 'email_verified', Value: 'true' }, // deliberately misleading: the status decides, not this attribute
  ];
  cognito.on(AdminGetUserCommand).resolves({ Username: SUB, UserStatus, Enabled: extra.Enabled ?? true, UserAttributes: attributes });
}


describe('send-reminder task', () => {
  quietLogger();
  before(() => {
    cognito = mockClient(CognitoIdentityProviderClient);
    ses = mockClient(SESv2Client);
  });
  after(() => {
    cognito.restore();
    ses.restore();
  });
  beforeEach(() => {
    cognito.reset();
    ses.reset();
    ses.on(SendEmailCommand).resolves({ MessageId: 'm-1' });
    store = new MemoryPersistence();
    sender = reminderSender(deps(), store);
  });

  it('emails the reminder to an UNCONFIRMED user and reports the account pending', async () => {
    userIs('UNCONFIRMED');
    expect(await remind(INPUT)).to.deep.equal({ pending: true, status: 'UNCONFIRMED', reminded: true });
    expect(cognito.commandCalls(AdminGetUserCommand)[0]!.args[0].input).to.deep.equal({ UserPoolId: POOL_ID, Username: SUB });
    const sent = ses.commandCalls(SendEmailCommand)[0]!.args[0].input;
    expect(sent.Destination?.ToAddresses).to.deep.equal([EMAIL]);
    expect(sent.Content?.Simple?.Subject?.Data).to.be.a('string').and.not.equal('');
  });

  for (const status of ['CONFIRMED', 'FORCE_CHANGE_PASSWORD', 'RESET_REQUIRED', 'EXTERNAL_PROVIDER'] as const) {
    it(`sends nothing to a ${status} user and ends the workflow`, async () => {
      userIs(status);
      expect(await remind(INPUT)).to.deep.equal({ pending: false, status, reminded: false });
      expect(ses.commandCalls(SendEmailCommand)).to.have.length(0);
    });
  }

  it('reports NOT_FOUND for a user who is gone', async () => {
    cognito.on(AdminGetUserCommand).rejects(new UserNotFoundException({ message: 'User does not exist.', ...meta }));
    expect(await remind(INPUT)).to.deep.equal({ pending: false, status: 'NOT_FOUND', reminded: false });
    expect(ses.commandCalls(SendEmailCommand)).to.have.length(0);
  });

  it('keeps a user with no email pending (they are still deleted later) without emailing', async () => {
    userIs('UNCONFIRMED', { email: null });
    expect(await remind(INPUT)).to.deep.equal({ pending: true, status: 'UNCONFIRMED', reminded: false });
    expect(ses.commandCalls(SendEmailCommand)).to.have.length(0);
  });

  it('does not remind a disabled account', async () => {
    userIs('UNCONFIRMED', { Enabled: false });
    expect(await remind(INPUT)).to.include({ pending: true, reminded: false });
    expect(ses.commandCalls(SendEmailCommand)).to.have.length(0);
  });

  it('throws TransientError when Cognito throttles, so the state machine retries', async () => {
    cognito.on(AdminGetUserCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException', $metadata: { httpStatusCode: 429 } }));
    const error = await rejection(remind(INPUT));
    expect(error).to.be.instanceOf(TransientError).and.to.have.property('name', 'TransientError');
  });

  it('throws TransientError when SES throttles', async () => {
    userIs('UNCONFIRMED');
    ses.on(SendEmailCommand).rejects(new TooManyRequestsException({ message: 'slow down', ...meta }));
    expect(await rejection(remind(INPUT))).to.have.property('name', 'TransientError');
  });

  it('carries on when SES refuses the address for good, reporting the reminder unsent', async () => {
    userIs('UNCONFIRMED');
    ses.on(SendEmailCommand).rejects(new MessageRejected({ message: 'Email address is not verified.', ...meta }));
    expect(await remind(INPUT)).to.deep.equal({ pending: true, status: 'UNCONFIRMED', reminded: false });
  });

  it('lets a permanent Cognito error through under its own name (recorded, not retried)', async () => {
    cognito.on(AdminGetUserCommand).rejects(Object.assign(new Error('not allowed'), { name: 'AccessDeniedException', $fault: 'client', $metadata: { httpStatusCode: 400 } }));
    expect(await rejection(remind(INPUT))).to.have.property('name', 'AccessDeniedException');
  });

  for (const bad of [null, {}, { userPoolId: POOL_ID }, { username: SUB }, { userPoolId: 'nope', username: SUB }, { userPoolId: POOL_ID, username: '' }]) {
    it(`rejects malformed input ${JSON.stringify(bad)} as InvalidTaskInput`, async () => {
      expect(await rejection(remind(bad))).to.be.instanceOf(InvalidTaskInput);
      expect(cognito.calls()).to.have.length(0);
    });
  }

  it('parses the input the state machine sends', () => {
    expect(parseTaskInput({ userPoolId: POOL_ID, username: SUB, signedUpAt: '2025-01-01T00:00:00Z' })).to.deep.equal(INPUT);
  });

  it('classifies network failures and 5xx as transient, client faults as final', () => {
    expect(isTransient(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).to.equal(true);
    expect(isTransient(Object.assign(new Error('x'), { $metadata: { httpStatusCode: 503 } }))).to.equal(true);
    expect(isTransient(Object.assign(new Error('x'), { name: 'TimeoutError' }))).to.equal(true);
    expect(isTransient(Object.assign(new Error('x'), { name: 'InvalidParameterException', $metadata: { httpStatusCode: 400 } }))).to.equal(false);
    expect(isTransient('boom')).to.equal(false);
  });

  it('never logs the address or the name', async () => {
    userIs('UNCONFIRMED');
    const { output: logs, error } = await captureLogs(() => remind(INPUT));
    expect(error).to.equal(undefined);
    expect(logs).to.include('Reminder sent');
    for (const secret of [EMAIL, 'frodo.baggins', NAME]) expect(logs).not.to.include(secret);
  });

  describe('when Step Functions replays the task', () => {
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

    it('sends one reminder when the task runs three times, and every replay returns the same result', async () => {
      userIs('UNCONFIRMED');
      const results = [await remind(INPUT), await remind(INPUT), await remind(INPUT)];
      for (const result of results) expect(result).to.deep.equal({ pending: true, status: 'UNCONFIRMED', reminded: true });
      expect(ses.commandCalls(SendEmailCommand)).to.have.length(1);
      expect(store.records.size).to.equal(1);
    });

    it('keeps no personal data in the idempotency record', async () => {
      userIs('UNCONFIRMED');
      await remind(INPUT);
      const [record] = [...store.records.values()];
      expect(record!.getStatus()).to.equal('COMPLETED');
      expect(record!.responseData).to.deep.equal({ reminded: true });
      expect(JSON.stringify(record)).not.to.include(EMAIL).and.not.to.include(SUB).and.not.to.include(NAME);
    });

    it('releases the record when SES fails, so the retry sends exactly one reminder', async () => {
      userIs('UNCONFIRMED');
      ses.on(SendEmailCommand).rejects(new TooManyRequestsException({ message: 'slow down', ...meta }));
      expect(await rejection(remind(INPUT))).to.be.instanceOf(TransientError);
      expect(store.records.size, 'record released').to.equal(0);
      ses.on(SendEmailCommand).resolves({ MessageId: 'm-2' });
      expect(await remind(INPUT)).to.deep.equal({ pending: true, status: 'UNCONFIRMED', reminded: true });
      expect(await remind(INPUT)).to.deep.equal({ pending: true, status: 'UNCONFIRMED', reminded: true });
      expect(ses.commandCalls(SendEmailCommand), 'one failed call, one send').to.have.length(2);
    });

    it('lets a concurrent duplicate retry later instead of sending a second reminder', async () => {
      userIs('UNCONFIRMED');
      ses.on(SendEmailCommand).callsFake(async () => {
        await sleep(30);
        return { MessageId: 'm-slow' };
      });
      const [first, second] = await Promise.allSettled([remind(INPUT), remind(INPUT)]);
      const outcomes = [first, second];
      expect(outcomes.filter((o) => o.status === 'fulfilled').map((o) => o.value)).to.deep.equal([{ pending: true, status: 'UNCONFIRMED', reminded: true }]);
      const rejected = outcomes.find((o) => o.status === 'rejected');
      expect(rejected?.reason, 'the duplicate is retried by the state machine').to.be.instanceOf(TransientError);
      expect(ses.commandCalls(SendEmailCommand)).to.have.length(1);
      expect(await remind(INPUT)).to.include({ reminded: true });
      expect(ses.commandCalls(SendEmailCommand)).to.have.length(1);
    });

    it('lets the retry send after an attempt that timed out mid-send (its in-progress record lapses with its deadline)', async () => {
      userIs('UNCONFIRMED');
      ses.on(SendEmailCommand).callsFakeOnce(() => new Promise(() => undefined)).resolves({ MessageId: 'm-3' });
      const dying = { ...lambdaContext('send-reminder'), getRemainingTimeInMillis: () => 1 };
      void remind(INPUT, dying);
      await sleep(20);
      expect(ses.commandCalls(SendEmailCommand), 'the first attempt reached SES').to.have.length(1);
      expect(await remind(INPUT, lambdaContext('send-reminder'))).to.deep.equal({ pending: true, status: 'UNCONFIRMED', reminded: true });
      expect(ses.commandCalls(SendEmailCommand)).to.have.length(2);
    });

    it('remembers a permanent SES refusal, so a replay does not try again', async () => {
      userIs('UNCONFIRMED');
      ses.on(SendEmailCommand).rejects(new MessageRejected({ message: 'Email address is not verified.', ...meta }));
      expect(await remind(INPUT)).to.deep.equal({ pending: true, status: 'UNCONFIRMED', reminded: false });
      expect(await remind(INPUT)).to.deep.equal({ pending: true, status: 'UNCONFIRMED', reminded: false });
      expect(ses.commandCalls(SendEmailCommand)).to.have.length(1);
    });

    it('does not remind on replay a user who confirmed in between', async () => {
      userIs('UNCONFIRMED');
      await remind(INPUT);
      userIs('CONFIRMED');
      expect(await remind(INPUT)).to.deep.equal({ pending: false, status: 'CONFIRMED', reminded: false });
      expect(ses.commandCalls(SendEmailCommand)).to.have.length(1);
    });

    it('treats an unavailable idempotency store as retryable and sends nothing without a record', async () => {
      userIs('UNCONFIRMED');
      store.failNextPut = Object.assign(new Error('timeout'), { name: 'TimeoutError' });
      expect(await rejection(remind(INPUT))).to.be.instanceOf(TransientError);
      expect(ses.commandCalls(SendEmailCommand)).to.have.length(0);
      expect(await remind(INPUT)).to.include({ reminded: true });
      expect(ses.commandCalls(SendEmailCommand)).to.have.length(1);
    });

    it('keys reminders by pool and user: another user is reminded too', async () => {
      userIs('UNCONFIRMED');
      await remind(INPUT);
      await remind({ ...INPUT, username: 'another-sub' });
      expect(ses.commandCalls(SendEmailCommand)).to.have.length(2);
    });
  });

  describe('the handler', () => {
    const TABLE = 'cognito-triggers-test';
    let raw: AwsClientStub<DynamoDBClient>;
    withEnvironment({
      AWS_REGION: 'eu-west-1',
      AWS_LAMBDA_FUNCTION_NAME: 'send-reminder',
      TABLE_NAME: TABLE,
      APP_NAME: 'Middle-earth Mail',
      APP_URL: 'https://example.com',
      FROM_EMAIL_ADDRESS: 'no-reply@example.com',
      FROM_EMAIL_NAME: 'Middle-earth Mail',
    });
    before(() => {
      raw = mockClient(DynamoDBClient);
    });
    after(() => {
      raw.restore();
    });

    it('stores the idempotency record in the project table, keyed without personal data, for the configured memory', async () => {
      raw.on(PutItemCommand).resolves({});
      raw.on(UpdateItemCommand).resolves({});
      raw.on(DeleteItemCommand).resolves({});
      userIs('UNCONFIRMED');
      const { handler } = await import('../../functions/send-reminder/index.ts');
      const before = Math.floor(Date.now() / 1000);
      const { result, output: logs } = await captureLogs(() => handler(INPUT, lambdaContext('send-reminder')));
      expect(result).to.deep.equal({ pending: true, status: 'UNCONFIRMED', reminded: true });
      expect(logs).to.include('Reminder sent').and.not.include(EMAIL);
      expect(ses.commandCalls(SendEmailCommand)).to.have.length(1);
      const put = raw.commandCalls(PutItemCommand)[0]!.args[0].input;
      expect(put.TableName).to.equal(TABLE);
      expect(put.Item?.pk).to.deep.equal({ S: 'idempotency#send-reminder' });
      expect(put.Item?.sk?.S).to.be.a('string').and.not.include(SUB);
      expect(Number(put.Item?.expiresAt?.N)).to.be.within(before + REMINDER_MEMORY_SECONDS, before + REMINDER_MEMORY_SECONDS + 60);
      expect(raw.commandCalls(UpdateItemCommand), 'the record is completed after the send').to.have.length(1);
      expect(JSON.stringify(raw.calls().map((c) => c.args[0].input))).to.not.include(EMAIL).and.not.include(NAME);
    });
  });
});
