import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient, TooManyRequestsException } from '@aws-sdk/client-lambda';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Context, PostConfirmationTriggerEvent } from 'aws-lambda';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { expect } from 'chai';
import { UserFacingError } from '../../functions/common/errors.ts';
import { HAND_OFF_RESERVE_MS, postConfirmation, type PostConfirmationDeps, type WelcomeEmailMessage } from '../../functions/post-confirmation/confirm.ts';
import { EMAIL, NAME, POOL_ID, SUB, confirmedUserAttributes, lambdaContext, postConfirmationEvent } from '../fixtures/events.ts';
import { captureLogs } from '../fixtures/logs.ts';

const TABLE = 'cognito-triggers-test';
const NOW = Date.UTC(2025, 4, 6, 7, 8, 9);
const AT = new Date(NOW).toISOString();
const WELCOME_FUNCTION = 'cognito-triggers-test-send-welcome-email';

describe('post-confirmation', () => {
  // Created per suite and restored after it: client mocks patch the class prototype, which other suites mock too.
  let ddb: AwsClientStub<DynamoDBDocumentClient>;
  let lambda: AwsClientStub<LambdaClient>;
  before(() => {
    ddb = mockClient(DynamoDBDocumentClient);
    lambda = mockClient(LambdaClient);
  });
  after(() => {
    ddb.restore();
    lambda.restore();
  });
  let profileExists: boolean;
  /** The profile row as the table holds it. */
  let profile: Record<string, unknown> | undefined;

  beforeEach(() => {
    ddb.reset();
    lambda.reset();
    profileExists = false;
    profile = undefined;
    // Behaves like the table: the conditional put succeeds once, then reports the existing row.
    ddb.on(PutCommand).callsFake((input: { Item: Record<string, unknown> }) => {
      if (profileExists) throw new ConditionalCheckFailedException({ message: 'exists', $metadata: {} });
      profileExists = true;
      profile = { ...input.Item };
      return {};
    });
    lambda.on(InvokeCommand).resolves({ StatusCode: 202 });
  });

  function deps(overrides: Partial<PostConfirmationDeps> = {}): PostConfirmationDeps {
    return {
      db: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' })),
      tableName: TABLE,
      now: () => NOW,
      lambda: new LambdaClient({ region: 'eu-west-1' }),
      welcomeEmailFunctionName: WELCOME_FUNCTION,
      ...overrides,
    };
  }

  function run(event: PostConfirmationTriggerEvent, d = deps(), context?: Context) {
    return postConfirmation(event, d, context);
  }

  /** The messages handed to send-welcome-email, as Lambda would deliver them. */
  function handedOff(): WelcomeEmailMessage[] {
    return lambda.commandCalls(InvokeCommand).map((c) => {
      const payload = c.args[0].input.Payload;
      if (typeof payload !== 'string') throw new Error('the hand-off payload is JSON text');
      return JSON.parse(payload) as WelcomeEmailMessage;
    });
  }

  it('on ConfirmSignUp writes the PENDING profile with a conditional put and hands the welcome email to send-welcome-email', async () => {
    const result = await run(postConfirmationEvent());
    expect(result).to.deep.equal({ profile: 'created', welcome: 'handed-off' });
    const put = ddb.commandCalls(PutCommand)[0]!.args[0].input;
    expect(put).to.deep.equal({
      TableName: TABLE,
      Item: { pk: `USER#${SUB}`, sk: 'PROFILE', sub: SUB, email: EMAIL, welcomeEmail: 'PENDING', name: NAME, createdAt: AT, confirmedAt: AT },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    const invoke = lambda.commandCalls(InvokeCommand);
    expect(invoke).to.have.length(1);
    expect(invoke[0]!.args[0].input).to.include({ FunctionName: WELCOME_FUNCTION, InvocationType: 'Event' });
    // Identifiers only: send-welcome-email reads the address back from the profile.
    expect(handedOff()).to.deep.equal([{ kind: 'welcome-email', userPoolId: POOL_ID, sub: SUB }]);
  });

  it('does nothing on ConfirmForgotPassword', async () => {
    const result = await run(postConfirmationEvent({ triggerSource: 'PostConfirmation_ConfirmForgotPassword' }));
    expect(result).to.deep.equal({ profile: 'skipped', welcome: 'skipped' });
    expect(ddb.calls()).to.have.length(0);
    expect(lambda.calls()).to.have.length(0);
  });

  it('replayed three times (Cognito retries), writes one profile and hands the same message over each time (send-welcome-email sends once)', async () => {
    const event = postConfirmationEvent();
    const outcomes = [];
    for (let i = 0; i < 3; i++) outcomes.push(await run(structuredClone(event)));
    expect(outcomes.map((o) => o.profile)).to.deep.equal(['created', 'already-existed', 'already-existed']);
    // A retry may follow an attempt that failed between the put and the hand-off, so it hands off again.
    expect(outcomes.map((o) => o.welcome)).to.deep.equal(['handed-off', 'handed-off', 'handed-off']);
    const messages = handedOff();
    expect(messages).to.have.length(3);
    expect(new Set(messages.map((m) => JSON.stringify(m))).size, 'one idempotency key for all of them').to.equal(1);
  });

  it('hands over pool and user, so another user, or the same sub in another pool, gets their own message', async () => {
    await run(postConfirmationEvent());
    profileExists = false;
    await run(postConfirmationEvent({ userAttributes: confirmedUserAttributes({ sub: 'another-sub' }) }));
    profileExists = false;
    await run(postConfirmationEvent({ userPoolId: 'eu-west-1_Other' }));
    expect(handedOff()).to.deep.equal([
      { kind: 'welcome-email', userPoolId: POOL_ID, sub: SUB },
      { kind: 'welcome-email', userPoolId: POOL_ID, sub: 'another-sub' },
      { kind: 'welcome-email', userPoolId: 'eu-west-1_Other', sub: SUB },
    ]);
  });

  describe('when the hand-off fails', () => {
    it('keeps the profile PENDING, logs an ERROR for the alarm and still answers Cognito', async () => {
      lambda.on(InvokeCommand).rejects(new TooManyRequestsException({ message: 'Rate exceeded', $metadata: {} }));
      const { lines, error } = await captureLogs(async () => expect((await run(postConfirmationEvent())).welcome).to.equal('failed'));
      expect(error).to.equal(undefined);
      expect(lines.find((l) => l.welcomeEmail === 'failed')).to.include({ level: 'ERROR', errorName: 'TooManyRequestsException', emailDomain: 'gmail.com' });
      expect(profile).to.include({ welcomeEmail: 'PENDING' });
    });

    it('bounds the hand-off by the time left before Cognito gives up, and skips it when none is left', async () => {
      const context = (remainingMs: number): Context => ({ ...lambdaContext('post-confirmation'), getRemainingTimeInMillis: () => remainingMs });
      expect((await run(postConfirmationEvent(), deps(), context(2_000))).welcome).to.equal('handed-off');
      expect((lambda.commandCalls(InvokeCommand)[0]!.args as unknown[])[1]).to.have.property('abortSignal').that.is.instanceOf(AbortSignal);

      lambda.resetHistory();
      profileExists = false;
      const { lines } = await captureLogs(async () => expect((await run(postConfirmationEvent(), deps(), context(HAND_OFF_RESERVE_MS))).welcome).to.equal('failed'));
      expect(lines.find((l) => l.welcomeEmail === 'failed')).to.include({ level: 'ERROR', errorName: 'HandOffOutOfTime' });
      expect(lambda.calls()).to.have.length(0);
    });
  });

  it('throws when the profile cannot be written, before handing anything over', async () => {
    ddb.on(PutCommand).rejects(Object.assign(new Error('down'), { name: 'InternalServerError' }));
    const error = await run(postConfirmationEvent()).catch((e: unknown) => e);
    expect(error).to.have.property('name', 'InternalServerError');
    expect(lambda.calls()).to.have.length(0);
  });

  it('refuses an event without a sub with a safe message', async () => {
    const error = await run(postConfirmationEvent({ userAttributes: { email: EMAIL } })).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(UserFacingError).with.property('reason', 'malformed-event');
    const { request: _r, ...rest } = postConfirmationEvent();
    const noRequest = await run(rest as unknown as PostConfirmationTriggerEvent).catch((e: unknown) => e);
    expect(noRequest).to.be.instanceOf(UserFacingError);
  });

  it('saves the profile but hands nothing over for a user without a usable email address', async () => {
    const variants: Record<string, string>[] = [{ sub: SUB, phone_number: '+447700900123' }, { sub: SUB, email: 'not an address' }];
    for (const attributes of variants) {
      profileExists = false;
      const result = await run(postConfirmationEvent({ userAttributes: attributes }));
      expect(result).to.deep.equal({ profile: 'created', welcome: 'no-email' });
      const item = ddb.commandCalls(PutCommand).at(-1)!.args[0].input.Item!;
      expect(item).to.not.have.property('welcomeEmail');
      expect(item).to.not.have.property('email');
    }
    expect(lambda.calls()).to.have.length(0);
  });

  it('stores given_name as givenName for the welcome greeting', async () => {
    await run(postConfirmationEvent({ userAttributes: { sub: SUB, email: EMAIL, given_name: 'Sam' } }));
    expect(ddb.commandCalls(PutCommand)[0]!.args[0].input.Item).to.include({ givenName: 'Sam' });
  });

  it('never logs the email address, the name or the sub in clear, nor hands the address to Lambda', async () => {
    const ok = await captureLogs(() => run(postConfirmationEvent()));
    lambda.on(InvokeCommand).rejects(Object.assign(new Error(`refused ${EMAIL}`), { name: 'ServiceException' }));
    profileExists = false;
    const failed = await captureLogs(() => run(postConfirmationEvent()));
    for (const { output } of [ok, failed]) {
      expect(output.length).to.be.greaterThan(0);
      expect(output).to.not.include(EMAIL);
      expect(output).to.not.include('frodo');
      expect(output).to.not.include(NAME);
      expect(output).to.not.include(SUB);
    }
    expect(JSON.stringify(handedOff())).to.not.include(EMAIL);
  });

  describe('handler', () => {
    let saved: NodeJS.ProcessEnv;
    before(() => {
      saved = process.env;
      process.env = { ...saved, AWS_REGION: 'eu-west-1', TABLE_NAME: TABLE, WELCOME_EMAIL_FUNCTION_NAME: WELCOME_FUNCTION };
    });
    after(() => {
      process.env = saved;
    });

    it('runs end to end: profile, then an asynchronous invoke of the function named by WELCOME_EMAIL_FUNCTION_NAME', async () => {
      const { handler } = await import('../../functions/post-confirmation/index.ts');
      const event = postConfirmationEvent();
      expect(await handler(event, lambdaContext('post-confirmation'))).to.equal(event);
      expect(ddb.commandCalls(PutCommand)).to.have.length(1);
      expect(lambda.commandCalls(InvokeCommand)[0]!.args[0].input).to.include({ FunctionName: WELCOME_FUNCTION, InvocationType: 'Event' });
    });

    it('answers Cognito when the hand-off fails', async () => {
      const { handler } = await import('../../functions/post-confirmation/index.ts');
      lambda.on(InvokeCommand).rejects(new TooManyRequestsException({ message: 'Rate exceeded', $metadata: {} }));
      const event = postConfirmationEvent();
      expect(await handler(event, lambdaContext('post-confirmation'))).to.equal(event);
      expect(profile).to.include({ welcomeEmail: 'PENDING' });
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
