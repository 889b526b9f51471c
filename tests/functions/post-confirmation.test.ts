import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { PostConfirmationTriggerEvent } from 'aws-lambda';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { expect } from 'chai';
import { UserFacingError } from '../../functions/common/errors.ts';
import { lockoutKey } from '../../functions/common/lockout.ts';
import { postConfirmation, type PostConfirmationDeps } from '../../functions/post-confirmation/logic.ts';
import { EMAIL, NAME, POOL_ID, SUB, confirmedUserAttributes, postConfirmationEvent } from '../fixtures/events.ts';
import { captureLogs, quietLogger } from '../fixtures/logs.ts';
import { withEnvironment } from '../fixtures/env.ts';
import { awsJsonError, withAwsEndpoint } from '../fixtures/aws-endpoint.ts';

const TABLE = 'cognito-triggers-test';
const NOW = Date.UTC(2025, 4, 6, 7, 8, 9);
const AT = new Date(NOW).toISOString();

describe('post-confirmation', () => {
  quietLogger();
  // Created per suite and restored after it: client mocks patch the class prototype, which other suites mock too.
  let ddb: AwsClientStub<DynamoDBDocumentClient>;
  before(() => {
    ddb = mockClient(DynamoDBDocumentClient);
  });
  after(() => {
    ddb.restore();
  });
  /** The profile rows as the table holds them, by key; each successful put is one INSERT on the table's stream. */
  let rows: Map<string, Record<string, unknown>>;
  let inserts: Record<string, unknown>[];

  beforeEach(() => {
    ddb.reset();
    rows = new Map();
    inserts = [];
    // Behaves like the table: the conditional put succeeds once per key, then reports the existing row.
    ddb.on(PutCommand).callsFake((input: { Item: Record<string, unknown> }) => {
      const key = `${String(input.Item.pk)}|${String(input.Item.sk)}`;
      if (rows.has(key)) throw new ConditionalCheckFailedException({ message: 'exists', $metadata: {} });
      rows.set(key, { ...input.Item });
      inserts.push({ ...input.Item });
      return {};
    });
  });

  function deps(): PostConfirmationDeps {
    return { db: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' })), tableName: TABLE, now: () => NOW };
  }

  const run = (event: PostConfirmationTriggerEvent) => postConfirmation(event, deps());

  it('on ConfirmSignUp writes the profile with one conditional put, PENDING and with the pool id: the welcome email is queued by that write alone', async () => {
    const result = await run(postConfirmationEvent());
    expect(result).to.deep.equal({ profile: 'created', welcome: 'queued' });
    expect(ddb.calls()).to.have.length(1);
    expect(ddb.commandCalls(PutCommand)[0]!.args[0].input).to.deep.equal({
      TableName: TABLE,
      Item: { pk: `USER#${SUB}`, sk: 'PROFILE', sub: SUB, userPoolId: POOL_ID, email: EMAIL, welcomeEmail: 'PENDING', name: NAME, createdAt: AT, confirmedAt: AT },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
  });

  describe('after a password reset (ConfirmForgotPassword)', () => {
    const reset = (overrides: Parameters<typeof postConfirmationEvent>[0] = {}) =>
      postConfirmationEvent({ triggerSource: 'PostConfirmation_ConfirmForgotPassword', ...overrides });

    it("deletes the login's lockout state, keyed on the email exactly as pre-authentication counts it, and writes no profile", async () => {
      ddb.on(DeleteCommand).resolves({ Attributes: { pk: `LOCKOUT#${EMAIL}`, sk: 'STATE', attempts: 0, windowStart: NOW + 60_000, lockedUntil: NOW + 60_000, lockCount: 1 } });
      const result = await run(reset({ userAttributes: confirmedUserAttributes({ email: `  ${EMAIL.toUpperCase()} ` }) }));
      expect(result).to.deep.equal({ profile: 'skipped', welcome: 'skipped', lockout: 'cleared' });
      expect(ddb.commandCalls(PutCommand)).to.have.length(0);
      expect(ddb.commandCalls(DeleteCommand).map((c) => c.args[0].input)).to.deep.equal([{ TableName: TABLE, Key: lockoutKey(EMAIL), ReturnValues: 'ALL_OLD' }]);
    });

    it('says there was nothing to clear when the login had no attempt state', async () => {
      ddb.on(DeleteCommand).resolves({});
      expect(await run(reset())).to.deep.include({ lockout: 'nothing-to-clear' });
    });

    it('falls back to the username for an account without an email, as the lockout does', async () => {
      ddb.on(DeleteCommand).resolves({});
      const attributes: Record<string, string> = { ...confirmedUserAttributes() };
      delete attributes.email;
      await run(reset({ userName: 'Frodo', userAttributes: attributes }));
      expect(ddb.commandCalls(DeleteCommand)[0]!.args[0].input.Key).to.deep.equal(lockoutKey('frodo'));
    });

    it('lets the reset succeed when DynamoDB fails, logging at ERROR without the address: the password is already changed and the lock runs out', async () => {
      ddb.on(DeleteCommand).rejects(Object.assign(new Error('down'), { name: 'InternalServerError' }));
      let result: unknown;
      const logs = await captureLogs(async () => {
        result = await run(reset());
      });
      expect(result).to.deep.include({ lockout: 'failed' });
      expect(logs.lines.find((l) => l.level === 'ERROR')).to.include({ message: 'Password reset; sign-in lockout could not be cleared', errorName: 'InternalServerError' });
      expect(logs.output).not.to.include(EMAIL);
    });
  });

  it('replayed three times (Cognito retries), succeeds every time and leaves exactly one INSERT for the welcome email', async () => {
    const event = postConfirmationEvent();
    const outcomes = [];
    for (let i = 0; i < 3; i++) outcomes.push(await run(structuredClone(event)));
    expect(outcomes).to.deep.equal([
      { profile: 'created', welcome: 'queued' },
      { profile: 'already-existed', welcome: 'queued' },
      { profile: 'already-existed', welcome: 'queued' },
    ]);
    expect(inserts, 'one profile, so one stream record').to.have.length(1);
  });

  it('queues one welcome per user: another user gets their own profile, and so their own INSERT', async () => {
    await run(postConfirmationEvent());
    await run(postConfirmationEvent({ userAttributes: confirmedUserAttributes({ sub: 'another-sub' }) }));
    expect(inserts.map((i) => [i.pk, i.welcomeEmail])).to.deep.equal([
      [`USER#${SUB}`, 'PENDING'],
      ['USER#another-sub', 'PENDING'],
    ]);
  });

  it('throws when the profile cannot be written, so Cognito retries and the welcome email is not lost', async () => {
    ddb.on(PutCommand).rejects(Object.assign(new Error('down'), { name: 'InternalServerError' }));
    const error = await run(postConfirmationEvent()).catch((e: unknown) => e);
    expect(error).to.have.property('name', 'InternalServerError');
  });

  it('refuses an event without a sub with a safe message', async () => {
    const error = await run(postConfirmationEvent({ userAttributes: { email: EMAIL } })).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(UserFacingError).with.property('reason', 'malformed-event');
    const { request: _r, ...rest } = postConfirmationEvent();
    const noRequest = await run(rest as unknown as PostConfirmationTriggerEvent).catch((e: unknown) => e);
    expect(noRequest).to.be.instanceOf(UserFacingError);
  });

  it('saves the profile but queues nothing for a user without a usable email address', async () => {
    const variants: Record<string, string>[] = [{ sub: SUB, phone_number: '+447700900123' }, { sub: 'sub-2', email: 'not an address' }];
    for (const attributes of variants) {
      const result = await run(postConfirmationEvent({ userAttributes: attributes }));
      expect(result).to.deep.equal({ profile: 'created', welcome: 'no-email' });
      const item = ddb.commandCalls(PutCommand).at(-1)!.args[0].input.Item!;
      expect(item).to.not.have.property('welcomeEmail');
      expect(item).to.not.have.property('email');
    }
  });

  it('stores given_name as givenName for the welcome greeting, and omits a missing pool id rather than storing a bad one', async () => {
    await run(postConfirmationEvent({ userAttributes: { sub: SUB, email: EMAIL, given_name: 'Sam' } }));
    expect(ddb.commandCalls(PutCommand)[0]!.args[0].input.Item).to.include({ givenName: 'Sam' });
    const noPool = { ...postConfirmationEvent({ userAttributes: confirmedUserAttributes({ sub: 'sub-3' }) }), userPoolId: '' };
    await run(noPool);
    expect(ddb.commandCalls(PutCommand)[1]!.args[0].input.Item).to.not.have.property('userPoolId');
  });

  it('never logs the email address, the name or the sub in clear', async () => {
    const ok = await captureLogs(() => run(postConfirmationEvent()));
    const again = await captureLogs(() => run(postConfirmationEvent()));
    for (const { output } of [ok, again]) {
      expect(output.length).to.be.greaterThan(0);
      expect(output).to.not.include(EMAIL);
      expect(output).to.not.include('frodo');
      expect(output).to.not.include(NAME);
      expect(output).to.not.include(SUB);
    }
  });

  describe('handler', () => {
    withEnvironment({ AWS_REGION: 'eu-west-1', TABLE_NAME: TABLE });
    // The handler's client is the synchronous triggers' own (functions/common/aws-clients.ts): a loopback endpoint answers it.
    const aws = withAwsEndpoint();
    beforeEach(() => aws.reset());

    it('runs end to end with TABLE_NAME alone: one put, the event returned to Cognito', async () => {
      const { handler } = await import('../../functions/post-confirmation/index.ts');
      aws.on('PutItem', () => ({}));
      const event = postConfirmationEvent();
      expect(await handler(event)).to.equal(event);
      expect(aws.operations()).to.deep.equal(['PutItem']);
      expect(aws.inputs('PutItem')[0]!.TableName).to.equal(TABLE);
      // A retry of the same confirmation is answered the same way.
      expect(await handler(structuredClone(event))).to.deep.equal(event);
    });

    it('turns a profile write failure into the generic message, and returns a password reset to Cognito after clearing its lock', async () => {
      const { handler } = await import('../../functions/post-confirmation/index.ts');
      aws.on('PutItem', () => awsJsonError('InternalServerError', 500, 'down'));
      const error = await handler(postConfirmationEvent({ userPoolId: POOL_ID })).catch((e: unknown) => e);
      expect(error).to.include({ name: 'UserFacingError', reason: 'internal' });
      aws.on('DeleteItem', () => ({}));
      const reset = postConfirmationEvent({ triggerSource: 'PostConfirmation_ConfirmForgotPassword' });
      expect(await handler(reset)).to.equal(reset);
      expect(aws.inputs('DeleteItem')).to.have.length(1);
      expect(aws.inputs('DeleteItem')[0]!.TableName).to.equal(TABLE);
    });
  });
});
