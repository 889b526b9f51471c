import { ConditionalCheckFailedException, DeleteItemCommand, DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient, TooManyRequestsException } from '@aws-sdk/client-lambda';
import { MessageRejected, SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Context, PostConfirmationTriggerEvent } from 'aws-lambda';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { expect } from 'chai';
import { UserFacingError } from '../../functions/common/errors.ts';
import {
  HAND_OFF_RESERVE_MS,
  postConfirmation,
  retryWelcome,
  welcomeSender,
  type PostConfirmationDeps,
  type WelcomeRetryMessage,
} from '../../functions/post-confirmation/confirm.ts';
import { EMAIL, NAME, POOL_ID, SUB, confirmedUserAttributes, lambdaContext, postConfirmationEvent } from '../fixtures/events.ts';
import { captureLogs } from '../fixtures/logs.ts';
import { MemoryPersistence } from './sender-support.ts';

const TABLE = 'cognito-triggers-test';
const NOW = Date.UTC(2025, 4, 6, 7, 8, 9);
const AT = new Date(NOW).toISOString();
const FUNCTION_NAME = 'cognito-triggers-test-post-confirmation';

describe('post-confirmation', () => {
  // Created per suite and restored after it: client mocks patch the class prototype, which other suites mock too.
  let ddb: AwsClientStub<DynamoDBDocumentClient>;
  let ses: AwsClientStub<SESv2Client>;
  let lambda: AwsClientStub<LambdaClient>;
  before(() => {
    ddb = mockClient(DynamoDBDocumentClient);
    ses = mockClient(SESv2Client);
    lambda = mockClient(LambdaClient);
  });
  after(() => {
    ddb.restore();
    ses.restore();
    lambda.restore();
  });
  let store: MemoryPersistence;
  let profileExists: boolean;
  /** The profile row as the table holds it. */
  let profile: Record<string, unknown> | undefined;

  beforeEach(() => {
    ddb.reset();
    ses.reset();
    lambda.reset();
    store = new MemoryPersistence();
    profileExists = false;
    profile = undefined;
    // Behaves like the table: the conditional put succeeds once, then reports the existing row.
    ddb.on(PutCommand).callsFake((input: { Item: Record<string, unknown> }) => {
      if (profileExists) throw new ConditionalCheckFailedException({ message: 'exists', $metadata: {} });
      profileExists = true;
      profile = { ...input.Item };
      return {};
    });
    ddb.on(GetCommand).callsFake(() => (profile ? { Item: { ...profile } } : {}));
    ddb.on(UpdateCommand).callsFake((input: { ExpressionAttributeValues: Record<string, unknown> }) => {
      if (profile) profile = { ...profile, welcomeEmail: input.ExpressionAttributeValues[':sent'], welcomeEmailSentAt: input.ExpressionAttributeValues[':at'] };
      return {};
    });
    ses.on(SendEmailCommand).resolves({ MessageId: 'welcome-1' });
    lambda.on(InvokeCommand).resolves({ StatusCode: 202 });
  });

  function deps(overrides: Partial<PostConfirmationDeps> = {}): PostConfirmationDeps {
    return {
      db: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' })),
      ses: new SESv2Client({ region: 'eu-west-1' }),
      tableName: TABLE,
      branding: { appName: 'Acme Notes', appUrl: 'https://notes.example.com' },
      from: { name: 'Acme Notes', address: 'no-reply@notes.example.com' },
      now: () => NOW,
      lambda: new LambdaClient({ region: 'eu-west-1' }),
      functionName: FUNCTION_NAME,
      ...overrides,
    };
  }

  function run(event: PostConfirmationTriggerEvent, d = deps(), context?: Context) {
    return postConfirmation(event, d, welcomeSender(d, store), context);
  }

  function retry(message: WelcomeRetryMessage, d = deps()) {
    return retryWelcome(message, d, welcomeSender(d, store), lambdaContext('post-confirmation'));
  }

  /** The retry messages the function handed to itself, as Lambda would deliver them. */
  function handedOff(): WelcomeRetryMessage[] {
    return lambda.commandCalls(InvokeCommand).map((c) => {
      const payload = c.args[0].input.Payload;
      if (typeof payload !== 'string') throw new Error('the hand-off payload is JSON text');
      return JSON.parse(payload) as WelcomeRetryMessage;
    });
  }

  const rejected = () => new MessageRejected({ message: 'Email address is not verified', $metadata: {} });

  it('on ConfirmSignUp writes the profile with a conditional put and sends one welcome email', async () => {
    const result = await run(postConfirmationEvent());
    expect(result).to.deep.equal({ profile: 'created', welcome: 'sent' });

    const put = ddb.commandCalls(PutCommand)[0]!.args[0].input;
    expect(put).to.deep.equal({
      TableName: TABLE,
      Item: { pk: `USER#${SUB}`, sk: 'PROFILE', sub: SUB, email: EMAIL, welcomeEmail: 'PENDING', name: NAME, createdAt: AT, confirmedAt: AT },
      ConditionExpression: 'attribute_not_exists(pk)',
    });

    const sent = ses.commandCalls(SendEmailCommand);
    expect(sent).to.have.length(1);
    const input = sent[0]!.args[0].input;
    expect(input.Destination).to.deep.equal({ ToAddresses: [EMAIL] });
    expect(input.FromEmailAddress).to.equal('Acme Notes <no-reply@notes.example.com>');
    expect(input.Content?.Simple?.Subject?.Data).to.equal('Frodo Baggins, welcome to Acme Notes');
    expect(input.Content?.Simple?.Body?.Html?.Data).to.include('Hi Frodo Baggins,');

    const marked = ddb.commandCalls(UpdateCommand)[0]!.args[0].input;
    expect(marked).to.deep.include({ Key: { pk: `USER#${SUB}`, sk: 'PROFILE' }, ExpressionAttributeValues: { ':sent': 'SENT', ':at': AT } });
  });

  it('does nothing on ConfirmForgotPassword', async () => {
    const result = await run(postConfirmationEvent({ triggerSource: 'PostConfirmation_ConfirmForgotPassword' }));
    expect(result).to.deep.equal({ profile: 'skipped', welcome: 'skipped' });
    expect(ddb.calls()).to.have.length(0);
    expect(ses.calls()).to.have.length(0);
  });

  it('replayed three times (Cognito retries), writes one profile and sends exactly one welcome email', async () => {
    const event = postConfirmationEvent();
    const outcomes = [];
    for (let i = 0; i < 3; i++) outcomes.push(await run(structuredClone(event)));
    expect(outcomes.map((o) => o.profile)).to.deep.equal(['created', 'already-existed', 'already-existed']);
    expect(outcomes.map((o) => o.welcome)).to.deep.equal(['sent', 'already-sent', 'already-sent']);
    expect(ses.commandCalls(SendEmailCommand)).to.have.length(1);
    expect(store.records.size).to.equal(1);
  });

  it('sends one email when a retry arrives while the first attempt is still sending', async () => {
    let release: () => void = () => undefined;
    ses.on(SendEmailCommand).callsFake(() => new Promise((resolve) => (release = () => resolve({ MessageId: 'slow' }))));
    const first = run(postConfirmationEvent());
    await new Promise((r) => setTimeout(r, 20));
    const second = await run(postConfirmationEvent());
    release();
    expect((await first).welcome).to.equal('sent');
    expect(second.welcome).to.equal('in-progress');
    expect(ses.commandCalls(SendEmailCommand)).to.have.length(1);
  });

  it('keys the welcome on pool and user: another user, or the same sub in another pool, gets their own email', async () => {
    await run(postConfirmationEvent());
    profileExists = false;
    await run(postConfirmationEvent({ userAttributes: confirmedUserAttributes({ sub: 'another-sub' }) }));
    profileExists = false;
    await run(postConfirmationEvent({ userPoolId: 'eu-west-1_Other' }));
    expect(ses.commandCalls(SendEmailCommand)).to.have.length(3);
  });

  describe('when SES fails', () => {
    it('answers Cognito with success, keeps the profile PENDING and hands the email to an asynchronous invocation of itself', async () => {
      ses.on(SendEmailCommand).rejects(rejected());
      const { lines, error } = await captureLogs(async () => expect((await run(postConfirmationEvent())).welcome).to.equal('retrying'));
      expect(error).to.equal(undefined);
      const invoke = lambda.commandCalls(InvokeCommand);
      expect(invoke).to.have.length(1);
      expect(invoke[0]!.args[0].input).to.include({ FunctionName: FUNCTION_NAME, InvocationType: 'Event' });
      // Identifiers only: the retry reads the address back from the profile.
      expect(handedOff()).to.deep.equal([{ kind: 'welcome-email-retry', userPoolId: POOL_ID, sub: SUB }]);
      expect(profile).to.include({ welcomeEmail: 'PENDING' });
      expect(ddb.commandCalls(UpdateCommand), 'not marked SENT').to.have.length(0);
      expect(store.records.size, 'idempotency record released').to.equal(0);
      expect(lines.find((l) => l.welcomeEmail === 'retrying')).to.include({ level: 'WARN', errorName: 'MessageRejected', emailDomain: 'gmail.com' });
      expect(lines.filter((l) => l.level === 'ERROR'), 'no alarm while a retry is on its way').to.deep.equal([]);
    });

    it('the handed-off retry sends exactly one welcome email and marks the profile SENT, however often Lambda delivers it', async () => {
      ses.on(SendEmailCommand).rejectsOnce(rejected()).resolves({ MessageId: 'm' });
      await run(postConfirmationEvent());
      const [message] = handedOff();
      expect(await retry(message!)).to.deep.equal({ welcome: 'sent' });
      expect(profile).to.include({ welcomeEmail: 'SENT', welcomeEmailSentAt: AT });
      // Asynchronous delivery is at least once.
      expect(await retry(message!)).to.deep.equal({ welcome: 'already-sent' });
      const sends = ses.commandCalls(SendEmailCommand);
      expect(sends, '1 failed, then 1 delivered').to.have.length(2);
      const last = sends[1]!.args[0].input;
      expect(last.Destination).to.deep.equal({ ToAddresses: [EMAIL] });
      expect(last.Content?.Simple?.Body?.Html?.Data, 'greets by the name kept in the profile').to.include('Hi Frodo Baggins,');
    });

    it('the retry throws while SES still fails, so Lambda retries it, and the next attempt sends once', async () => {
      ses.on(SendEmailCommand).rejectsOnce(rejected()).rejectsOnce(rejected()).resolves({ MessageId: 'm' });
      await run(postConfirmationEvent());
      const [message] = handedOff();
      const { lines, error } = await captureLogs(() => retry(message!));
      expect(error).to.have.property('name', 'WelcomeNotSentError');
      expect((error as Error).message).to.not.include(EMAIL);
      expect(lines.find((l) => l.welcomeEmail === 'retry-failed')).to.include({ level: 'ERROR', errorName: 'MessageRejected' });
      expect(profile).to.include({ welcomeEmail: 'PENDING' });
      expect(store.records.size, 'idempotency record released for the next attempt').to.equal(0);

      expect(await retry(message!)).to.deep.equal({ welcome: 'sent' });
      expect(ses.commandCalls(SendEmailCommand)).to.have.length(3);
      expect(ddb.commandCalls(UpdateCommand), 'marked SENT once').to.have.length(1);
      expect(lambda.commandCalls(InvokeCommand), 'the retry never hands off again').to.have.length(1);
    });

    it('keeps the profile PENDING, logs an ERROR for the alarm and still answers Cognito when the hand-off fails too', async () => {
      ses.on(SendEmailCommand).rejects(rejected());
      lambda.on(InvokeCommand).rejects(new TooManyRequestsException({ message: 'Rate exceeded', $metadata: {} }));
      const { lines, error } = await captureLogs(async () => expect((await run(postConfirmationEvent())).welcome).to.equal('failed'));
      expect(error).to.equal(undefined);
      expect(lines.find((l) => l.welcomeEmail === 'failed')).to.include({
        level: 'ERROR',
        errorName: 'MessageRejected',
        handOffErrorName: 'TooManyRequestsException',
        emailDomain: 'gmail.com',
      });
      expect(profile).to.include({ welcomeEmail: 'PENDING' });
      expect(ddb.commandCalls(UpdateCommand)).to.have.length(0);
    });

    it('fails the hand-off naming AWS_LAMBDA_FUNCTION_NAME when the runtime did not set it', async () => {
      ses.on(SendEmailCommand).rejects(rejected());
      const { lines } = await captureLogs(async () => expect((await run(postConfirmationEvent(), deps({ functionName: undefined }))).welcome).to.equal('failed'));
      expect(lines.find((l) => l.welcomeEmail === 'failed')).to.include({ level: 'ERROR', handOffErrorName: 'ConfigError' });
      expect(lambda.calls()).to.have.length(0);
    });

    it('bounds the hand-off by the time left before Cognito gives up, and skips it when none is left', async () => {
      ses.on(SendEmailCommand).rejects(rejected());
      const context = (remainingMs: number): Context => ({ ...lambdaContext('post-confirmation'), getRemainingTimeInMillis: () => remainingMs });
      expect((await run(postConfirmationEvent(), deps(), context(2_000))).welcome).to.equal('retrying');
      expect((lambda.commandCalls(InvokeCommand)[0]!.args as unknown[])[1]).to.have.property('abortSignal').that.is.instanceOf(AbortSignal);

      lambda.resetHistory();
      profileExists = false;
      const { lines } = await captureLogs(async () => expect((await run(postConfirmationEvent(), deps(), context(HAND_OFF_RESERVE_MS))).welcome).to.equal('failed'));
      expect(lines.find((l) => l.welcomeEmail === 'failed')).to.include({ handOffErrorName: 'HandOffOutOfTime' });
      expect(lambda.calls()).to.have.length(0);
    });

    it('treats an unavailable idempotency store as a failed send, never as a reason to send twice', async () => {
      store.failNextPut = Object.assign(new Error('timeout'), { name: 'TimeoutError' });
      expect((await run(postConfirmationEvent())).welcome).to.equal('retrying');
      expect(ses.commandCalls(SendEmailCommand)).to.have.length(0);
    });

    it('still reports the email as sent when only the SENT mark fails', async () => {
      ddb.on(UpdateCommand).rejects(Object.assign(new Error('x'), { name: 'ProvisionedThroughputExceededException' }));
      const { lines } = await captureLogs(async () => expect((await run(postConfirmationEvent())).welcome).to.equal('sent'));
      expect(lines.some((l) => l.level === 'WARN' && l.errorName === 'ProvisionedThroughputExceededException')).to.equal(true);
    });
  });

  describe('the asynchronous retry message', () => {
    const message: WelcomeRetryMessage = { kind: 'welcome-email-retry', userPoolId: POOL_ID, sub: SUB };

    it('sends nothing for a profile already marked SENT', async () => {
      profile = { pk: `USER#${SUB}`, sk: 'PROFILE', sub: SUB, email: EMAIL, welcomeEmail: 'SENT' };
      expect(await retry(message)).to.deep.equal({ welcome: 'already-sent' });
      expect(ses.calls()).to.have.length(0);
    });

    it('marks the profile SENT when an earlier attempt sent but could not mark it', async () => {
      await run(postConfirmationEvent());
      profile = { ...profile, welcomeEmail: 'PENDING' };
      expect(await retry(message)).to.deep.equal({ welcome: 'already-sent' });
      expect(ses.commandCalls(SendEmailCommand)).to.have.length(1);
      expect(profile).to.include({ welcomeEmail: 'SENT' });
    });

    it('drops, without throwing, a message that can never succeed: malformed, no profile, no address', async () => {
      const { lines } = await captureLogs(async () => {
        expect(await retry({ ...message, sub: '' })).to.deep.equal({ welcome: 'malformed' });
        expect(await retry({ ...message, userPoolId: 42 as unknown as string })).to.deep.equal({ welcome: 'malformed' });
        expect(await retry(message)).to.deep.equal({ welcome: 'no-profile' });
        profile = { pk: `USER#${SUB}`, sk: 'PROFILE', sub: SUB, welcomeEmail: 'PENDING' };
        expect(await retry(message)).to.deep.equal({ welcome: 'no-email' });
      });
      expect(lines.filter((l) => l.level === 'ERROR').map((l) => l.welcomeEmail)).to.deep.equal(['malformed', 'malformed', 'no-profile']);
      expect(ses.calls()).to.have.length(0);
    });
  });

  it('throws when the profile cannot be written, before sending anything', async () => {
    ddb.on(PutCommand).rejects(Object.assign(new Error('down'), { name: 'InternalServerError' }));
    const error = await run(postConfirmationEvent()).catch((e: unknown) => e);
    expect(error).to.have.property('name', 'InternalServerError');
    expect(ses.calls()).to.have.length(0);
  });

  it('refuses an event without a sub with a safe message', async () => {
    const error = await run(postConfirmationEvent({ userAttributes: { email: EMAIL } })).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(UserFacingError).with.property('reason', 'malformed-event');
    const { request: _r, ...rest } = postConfirmationEvent();
    const noRequest = await run(rest as unknown as PostConfirmationTriggerEvent).catch((e: unknown) => e);
    expect(noRequest).to.be.instanceOf(UserFacingError);
  });

  it('saves the profile but sends nothing to a user without a usable email address', async () => {
    const variants: Record<string, string>[] = [{ sub: SUB, phone_number: '+447700900123' }, { sub: SUB, email: 'not an address' }];
    for (const attributes of variants) {
      profileExists = false;
      const result = await run(postConfirmationEvent({ userAttributes: attributes }));
      expect(result).to.deep.equal({ profile: 'created', welcome: 'no-email' });
      const item = ddb.commandCalls(PutCommand).at(-1)!.args[0].input.Item!;
      expect(item).to.not.have.property('welcomeEmail');
      expect(item).to.not.have.property('email');
    }
    expect(ses.calls()).to.have.length(0);
  });

  it('greets by given_name when there is no name and stores it as givenName', async () => {
    await run(postConfirmationEvent({ userAttributes: { sub: SUB, email: EMAIL, given_name: 'Sam' } }));
    expect(ddb.commandCalls(PutCommand)[0]!.args[0].input.Item).to.include({ givenName: 'Sam' });
    expect(ses.commandCalls(SendEmailCommand)[0]!.args[0].input.Content?.Simple?.Body?.Text?.Data).to.match(/^Hi Sam,/);
  });

  it('never logs the email address, the name or the sub in clear, nor puts them in the retry error', async () => {
    const leaky = () => new MessageRejected({ message: `rejected ${EMAIL}`, $metadata: {} });
    ses.on(SendEmailCommand).rejectsOnce(leaky()).rejectsOnce(leaky()).resolves({});
    const first = await captureLogs(() => run(postConfirmationEvent()));
    const failedRetry = await captureLogs(() => retry(handedOff()[0]!));
    expect(JSON.stringify({ message: (failedRetry.error as Error).message, name: (failedRetry.error as Error).name })).to.not.include(EMAIL);
    const second = await captureLogs(() => retry(handedOff()[0]!));
    for (const { output } of [first, failedRetry, second]) {
      expect(output.length).to.be.greaterThan(0);
      expect(output).to.not.include(EMAIL);
      expect(output).to.not.include('frodo');
      expect(output).to.not.include(NAME);
    }
  });

  describe('handler', () => {
    let raw: AwsClientStub<DynamoDBClient>;
    let saved: NodeJS.ProcessEnv;
    before(() => {
      raw = mockClient(DynamoDBClient);
      saved = process.env;
      process.env = {
        ...saved,
        AWS_REGION: 'eu-west-1',
        AWS_LAMBDA_FUNCTION_NAME: 'post-confirmation',
        TABLE_NAME: TABLE,
        APP_NAME: 'Acme Notes',
        APP_URL: 'https://notes.example.com',
        FROM_EMAIL_ADDRESS: 'no-reply@notes.example.com',
        FROM_EMAIL_NAME: 'Acme Notes',
      };
    });
    after(() => {
      process.env = saved;
      raw.restore();
    });

    it('runs end to end: profile, idempotency record in the shared table, and the welcome email', async () => {
      raw.reset();
      raw.on(PutItemCommand).resolves({});
      raw.on(UpdateItemCommand).resolves({});
      raw.on(DeleteItemCommand).resolves({});
      const { handler } = await import('../../functions/post-confirmation/index.ts');
      const event = postConfirmationEvent();
      const result = await handler(event, lambdaContext('post-confirmation'));
      expect(result).to.equal(event);
      expect(ddb.commandCalls(PutCommand)).to.have.length(1);
      expect(ses.commandCalls(SendEmailCommand)).to.have.length(1);
      const record = raw.commandCalls(PutItemCommand)[0]!.args[0].input;
      expect(record.TableName).to.equal(TABLE);
      expect(record.Item?.pk).to.deep.equal({ S: 'idempotency#post-confirmation' });
      expect(record.Item?.sk?.S).to.be.a('string').and.not.include(SUB);
      expect(record.Item).to.have.property('expiresAt');
      expect(JSON.stringify(raw.calls().map((c) => c.args[0].input))).to.not.include(EMAIL);
    });

    it('answers Cognito when SES fails, and routes its own retry message to the asynchronous path, which throws until SES recovers', async () => {
      raw.reset();
      raw.on(PutItemCommand).resolves({});
      raw.on(UpdateItemCommand).resolves({});
      raw.on(DeleteItemCommand).resolves({});
      const { handler } = await import('../../functions/post-confirmation/index.ts');
      ses.on(SendEmailCommand).rejects(rejected());
      const event = postConfirmationEvent();
      expect(await handler(event, lambdaContext('post-confirmation'))).to.equal(event);
      // The name the Lambda runtime gave the function, not one from Terraform.
      expect(lambda.commandCalls(InvokeCommand)[0]!.args[0].input).to.include({ FunctionName: 'post-confirmation', InvocationType: 'Event' });
      const [message] = handedOff();
      const error = await handler(message!, lambdaContext('post-confirmation')).catch((e: unknown) => e);
      expect(error).to.have.property('name', 'WelcomeNotSentError');
      ses.on(SendEmailCommand).resolves({ MessageId: 'm' });
      expect(await handler(message!, lambdaContext('post-confirmation'))).to.deep.equal({ welcome: 'sent' });
      expect(profile).to.include({ welcomeEmail: 'SENT' });
    });

    it('turns a profile write failure into the generic message, and skips ConfirmForgotPassword', async () => {
      const { handler } = await import('../../functions/post-confirmation/index.ts');
      ddb.on(PutCommand).rejects(Object.assign(new Error('down'), { name: 'InternalServerError' }));
      const error = await handler(postConfirmationEvent({ userPoolId: POOL_ID })).catch((e: unknown) => e);
      expect(error).to.include({ name: 'UserFacingError', reason: 'internal' });
      const skipped = postConfirmationEvent({ triggerSource: 'PostConfirmation_ConfirmForgotPassword' });
      expect(await handler(skipped)).to.equal(skipped);
    });
  });
});
