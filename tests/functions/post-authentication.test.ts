import { DynamoDBClient, InternalServerError } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { expect } from 'chai';
import { GENERIC_MESSAGE, UserFacingError } from '../../functions/common/errors.ts';
import { DEDUPE_WINDOW_SECONDS, invocationHash, recordSignIn, type RecordDeps } from '../../functions/post-authentication/record.ts';
import { handleSignIn } from '../../functions/post-authentication/logic.ts';
import { CLIENT_ID, EMAIL, SUB, confirmedUserAttributes, lambdaContext, postAuthenticationEvent } from '../fixtures/events.ts';
import { withEnvironment } from '../fixtures/env.ts';
import { withAwsEndpoint } from '../fixtures/aws-endpoint.ts';
import { conditionFailed } from '../fixtures/dynamodb.ts';
import { loadHandler } from '../fixtures/handlers.ts';
import { captureLogs, quietLogger } from '../fixtures/logs.ts';

const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);
const ISO0 = new Date(T0).toISOString();

describe('post-authentication', () => {
  quietLogger();
  // Mocked only while this suite runs: a mock installed at load time would also capture the real
  // clients of every other suite in the same mocha process (the dynalite tests among them).
  let ddb: AwsClientStub<DynamoDBDocumentClient>;
  before(() => {
    ddb = mockClient(DynamoDBDocumentClient);
  });
  after(() => ddb.restore());
  let clock = T0;
  const deps = (): RecordDeps => ({ db: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' })), tableName: 'users', auditRetentionDays: 30, passwordless: true, now: () => clock });
  const puts = () => ddb.commandCalls(PutCommand).map((c) => c.args[0].input);

  beforeEach(() => {
    ddb.reset();
    clock = T0;
  });

  describe('recordSignIn', () => {
    it('pins the time with a short-lived dedupe marker, then writes audit and profile; the counter is cleared beside the marker', async () => {
      ddb.on(PutCommand).resolves({}).on(UpdateCommand).resolves({}).on(DeleteCommand).resolves({ Attributes: { pk: `LOCKOUT#${EMAIL}`, sk: 'STATE', attempts: 2, windowStart: T0 - 1 } });
      const event = postAuthenticationEvent({ newDeviceUsed: true });
      const result = await recordSignIn(deps(), event);
      expect(result).to.deep.equal({ retry: false, at: ISO0, auditWritten: true, profileUpdated: true, lockoutCleared: true, method: 'password' });

      const hash = invocationHash(event);
      const [marker, audit] = puts();
      expect(marker).to.deep.include({
        Item: { pk: `DEDUPE#post-auth#${hash}`, sk: 'MARKER', at: T0, expiresAt: T0 / 1000 + DEDUPE_WINDOW_SECONDS },
        ConditionExpression: 'attribute_not_exists(pk) OR expiresAt <= :now',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      });
      expect(audit).to.deep.include({
        Item: {
          pk: `USER#${SUB}`,
          sk: `LOGIN#${ISO0}#${hash.slice(0, 16)}`,
          at: ISO0,
          clientId: CLIENT_ID,
          triggerSource: 'PostAuthentication_Authentication',
          method: 'password',
          device: { newDeviceUsed: true },
          expiresAt: T0 / 1000 + 30 * 86_400,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      });
      const profile = ddb.commandCalls(UpdateCommand)[0]!.args[0].input;
      expect(profile.Key).to.deep.equal({ pk: `USER#${SUB}`, sk: 'PROFILE' });
      expect(profile.UpdateExpression).to.equal('SET lastLoginAt = :at, #sub = if_not_exists(#sub, :sub), createdAt = if_not_exists(createdAt, :at), email = if_not_exists(email, :email) ADD loginCount :one');
      expect(profile.ConditionExpression).to.equal('attribute_not_exists(lastLoginAt) OR lastLoginAt < :at');
      expect(profile.ExpressionAttributeValues).to.deep.equal({ ':at': ISO0, ':sub': SUB, ':one': 1, ':email': EMAIL });
      expect(ddb.commandCalls(DeleteCommand)[0]!.args[0].input).to.deep.equal({ TableName: 'users', Key: { pk: `LOCKOUT#${EMAIL}`, sk: 'STATE' }, ReturnValues: 'ALL_OLD' });
    });

    it('on a retry reuses the first time from the marker, and counts a refused audit or profile write as already done', async () => {
      const firstAt = T0 - 4_000;
      ddb.on(PutCommand).rejectsOnce(conditionFailed({ at: firstAt, expiresAt: 1 })).rejects(conditionFailed());
      ddb.on(UpdateCommand).rejects(conditionFailed()).on(DeleteCommand).resolves({});
      const result = await recordSignIn(deps(), postAuthenticationEvent());
      expect(result).to.deep.equal({ retry: true, at: new Date(firstAt).toISOString(), auditWritten: false, profileUpdated: false, lockoutCleared: false, method: 'password' });
      expect(puts()[1]!.Item!.sk).to.match(new RegExp(`^LOGIN#${new Date(firstAt).toISOString()}#`));
      expect(ddb.commandCalls(GetCommand).filter((c) => String(c.args[0].input.Key?.pk).startsWith('DEDUPE#'))).to.have.length(0);
    });

    it('reads the marker when the store does not return ALL_OLD, and claims it again if it vanished meanwhile', async () => {
      ddb.on(PutCommand).rejectsOnce(conditionFailed()).resolves({});
      ddb.on(GetCommand, { Key: { sk: 'MARKER' } }).resolvesOnce({ Item: { at: T0 - 2_000 } });
      ddb.on(UpdateCommand).resolves({}).on(DeleteCommand).resolves({});
      expect(await recordSignIn(deps(), postAuthenticationEvent())).to.include({ retry: true, at: new Date(T0 - 2_000).toISOString() });
      expect(ddb.commandCalls(GetCommand)[0]!.args[0].input).to.deep.include({ ConsistentRead: true });

      ddb.reset();
      ddb.on(PutCommand).rejectsOnce(conditionFailed()).resolves({});
      ddb.on(GetCommand).resolves({});
      ddb.on(UpdateCommand).resolves({}).on(DeleteCommand).resolves({});
      expect(await recordSignIn(deps(), postAuthenticationEvent())).to.include({ retry: false, at: ISO0 });
    });

    it('audits the method a passwordless sign-in left a marker for moments before, and a password otherwise', async () => {
      ddb.on(PutCommand).resolves({}).on(UpdateCommand).resolves({}).on(DeleteCommand).resolves({});
      const marker = (at: number, method: string) => ddb.on(GetCommand, { Key: { pk: `PASSWORDLESS#${EMAIL}`, sk: 'SIGN-IN' } }).resolves({ Item: { method, at } });
      marker(T0 - 800, 'magic-link');
      expect(await recordSignIn(deps(), postAuthenticationEvent())).to.include({ method: 'magic-link' });
      expect(puts()[1]!.Item).to.include({ method: 'magic-link' });
      marker(T0 - 500, 'code');
      expect(await recordSignIn(deps(), postAuthenticationEvent({ newDeviceUsed: false }))).to.include({ method: 'code' });
      // A marker older than a minute belongs to an earlier sign-in; one naming anything else is ignored.
      marker(T0 - 61_000, 'code');
      expect(await recordSignIn(deps(), postAuthenticationEvent({ newDeviceUsed: true }))).to.include({ method: 'password' });
      marker(T0, 'sms');
      clock = T0 + 1;
      expect(await recordSignIn(deps(), postAuthenticationEvent())).to.include({ method: 'password' });
    });

    it('without passwordless sign-in deployed, reads no marker and audits a password', async () => {
      ddb.on(PutCommand).resolves({}).on(UpdateCommand).resolves({}).on(DeleteCommand).resolves({});
      ddb.on(GetCommand).resolves({ Item: { method: 'code', at: T0 } });
      expect(await recordSignIn({ ...deps(), passwordless: false }, postAuthenticationEvent())).to.include({ method: 'password', auditWritten: true });
      expect(ddb.commandCalls(GetCommand)).to.have.length(0);
    });

    it('tells two passwordless sign-ins with identical events apart by their verification, and a retry of one from the other', async () => {
      const event = postAuthenticationEvent();
      const first = { method: 'code', at: T0 - 900 } as const;
      const second = { method: 'code', at: T0 - 100 } as const;
      expect(invocationHash(event, first)).to.not.equal(invocationHash(event, second));
      expect(invocationHash(event, first)).to.equal(invocationHash(postAuthenticationEvent(), { ...first }));
      expect(invocationHash(event)).to.not.equal(invocationHash(event, first));
    });

    it('sends the counter\'s clear before the dedupe marker is answered, so a cold start opens one connection fewer', async () => {
      let answerMarker!: () => void;
      ddb.on(PutCommand, { Item: { sk: 'MARKER' } }).callsFake(() => new Promise((resolve) => (answerMarker = () => resolve({}))));
      ddb.on(PutCommand, { Item: { at: ISO0 } }).resolves({}).on(UpdateCommand).resolves({}).on(DeleteCommand).resolves({});
      const recording = recordSignIn({ ...deps(), passwordless: false }, postAuthenticationEvent());
      await new Promise((resolve) => setImmediate(resolve));
      expect(ddb.commandCalls(DeleteCommand)).to.have.length(1);
      expect(ddb.commandCalls(UpdateCommand)).to.have.length(0);
      answerMarker();
      expect(await recording).to.include({ auditWritten: true, profileUpdated: true, lockoutCleared: false });
    });

    it('rejects with the clear\'s failure once, never as an unhandled rejection, when it fails while the marker is pending', async () => {
      const unhandled: unknown[] = [];
      const onUnhandled = (reason: unknown) => unhandled.push(reason);
      process.on('unhandledRejection', onUnhandled);
      try {
        const failure = new InternalServerError({ message: 'boom', $metadata: {} });
        ddb.on(DeleteCommand).rejects(failure);
        ddb.on(PutCommand).callsFake(() => new Promise((resolve) => setTimeout(() => resolve({}), 20))).on(UpdateCommand).resolves({});
        const error = await recordSignIn({ ...deps(), passwordless: false }, postAuthenticationEvent()).catch((e: unknown) => e);
        await new Promise((resolve) => setTimeout(resolve, 10));
        expect(error).to.equal(failure);
        expect(unhandled).to.deep.equal([]);
      } finally {
        process.off('unhandledRejection', onUnhandled);
      }
    });

    it('waits for the clear to settle before rejecting a failed marker, so nothing is in flight when Lambda freezes', async () => {
      let clearSettled = false;
      ddb.on(PutCommand).rejects(new InternalServerError({ message: 'boom', $metadata: {} }));
      ddb.on(DeleteCommand).callsFake(() => new Promise((resolve) => setTimeout(() => { clearSettled = true; resolve({}); }, 20)));
      const error = await recordSignIn({ ...deps(), passwordless: false }, postAuthenticationEvent()).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(InternalServerError);
      expect(clearSettled).to.equal(true);
    });

    it('waits for every write to settle before rejecting one that failed, so none is in flight when Lambda freezes', async () => {
      let profileSettled = false;
      ddb.on(PutCommand, { Item: { sk: 'MARKER' } }).resolves({});
      ddb.on(PutCommand, { Item: { at: ISO0 } }).rejects(new InternalServerError({ message: 'boom', $metadata: {} }));
      ddb.on(UpdateCommand).callsFake(() => new Promise((resolve) => setTimeout(() => { profileSettled = true; resolve({}); }, 20))).on(DeleteCommand).resolves({});
      const error = await recordSignIn({ ...deps(), passwordless: false }, postAuthenticationEvent()).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(InternalServerError);
      expect(profileSettled).to.equal(true);
    });

    it('gives up after three rounds of a marker that can be neither claimed nor read', async () => {
      ddb.on(PutCommand).rejects(conditionFailed()).on(GetCommand).resolves({});
      const error = await recordSignIn(deps(), postAuthenticationEvent()).catch((e: Error) => e.message);
      expect(error).to.equal('dedupe marker could not be claimed');
      expect(ddb.commandCalls(PutCommand)).to.have.length(3);
    });

    it('propagates a DynamoDB failure of any write', async () => {
      ddb.on(PutCommand).resolves({}).on(UpdateCommand).rejects(new InternalServerError({ message: 'boom', $metadata: {} })).on(DeleteCommand).resolves({});
      const error = await recordSignIn(deps(), postAuthenticationEvent()).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(InternalServerError);
    });

    it('upserts without an email when the user has none, and clears the counter keyed by username', async () => {
      ddb.on(PutCommand).resolves({}).on(UpdateCommand).resolves({}).on(DeleteCommand).resolves({});
      await recordSignIn(deps(), postAuthenticationEvent({ userName: 'Legacy-User', userAttributes: { sub: SUB } }));
      const profile = ddb.commandCalls(UpdateCommand)[0]!.args[0].input;
      expect(profile.UpdateExpression).not.to.include('email');
      expect(profile.ExpressionAttributeValues).not.to.have.property(':email');
      expect(ddb.commandCalls(DeleteCommand)[0]!.args[0].input.Key).to.deep.equal({ pk: 'LOCKOUT#legacy-user', sk: 'STATE' });
      expect(puts()[1]!.Item).to.deep.include({ device: { newDeviceUsed: false } });
    });

    it('identifies an invocation by content that Cognito repeats on a retry, whatever the attribute order', () => {
      const event = postAuthenticationEvent();
      const reordered = postAuthenticationEvent({ userAttributes: Object.fromEntries(Object.entries(confirmedUserAttributes()).reverse()) });
      expect(invocationHash(reordered)).to.equal(invocationHash(event));
      expect(invocationHash(postAuthenticationEvent({ newDeviceUsed: true }))).not.to.equal(invocationHash(event));
      expect(invocationHash({ ...event, callerContext: { ...event.callerContext, clientId: 'other-client' } })).not.to.equal(invocationHash(event));
      expect(invocationHash(postAuthenticationEvent({ userAttributes: confirmedUserAttributes({ sub: 'someone-else' }) }))).not.to.equal(invocationHash(event));
      expect(invocationHash(postAuthenticationEvent({ clientMetadata: { app: 'mobile' } }))).not.to.equal(invocationHash(event));
    });
  });

  describe('handleSignIn', () => {
    it('lets the sign-in through and logs an error when the record cannot be written', async () => {
      ddb.on(PutCommand).rejects(new InternalServerError({ message: 'boom', $metadata: {} }));
      const logs = (await captureLogs(() => handleSignIn(deps(), postAuthenticationEvent()))).output;
      expect(logs).to.include('"level":"ERROR"').and.include('sign-in could not be recorded').and.include('InternalServerError');
      await handleSignIn(deps(), postAuthenticationEvent());
    });

    it('refuses events that are not a sign-in of a real user with the generic message, writing nothing', async () => {
      const noSub = postAuthenticationEvent({ userAttributes: { email: EMAIL } });
      const noRequest = postAuthenticationEvent();
      Reflect.deleteProperty(noRequest, 'request');
      const wrongSource = { ...postAuthenticationEvent(), triggerSource: 'PreAuthentication_Authentication' as const };
      for (const event of [noSub, noRequest, wrongSource]) {
        const error = await handleSignIn(deps(), event as Parameters<typeof handleSignIn>[1]).catch((e: unknown) => e);
        expect(error).to.be.instanceOf(UserFacingError).with.property('message', GENERIC_MESSAGE);
      }
      expect(ddb.calls()).to.have.length(0);
    });

    it('never logs the email, the username or the sub in the clear', async () => {
      ddb.on(PutCommand).resolves({}).on(UpdateCommand).resolves({}).on(DeleteCommand).resolves({});
      const logs = (await captureLogs(() => handleSignIn(deps(), postAuthenticationEvent({ userName: 'frodo-user' })))).output;
      expect(logs).to.include('sign-in recorded');
      for (const secret of [EMAIL, 'frodo', SUB]) expect(logs.toLowerCase()).not.to.include(secret.toLowerCase());
    });
  });

  describe('handler', () => {
    withEnvironment({ TABLE_NAME: 'users', AUDIT_RETENTION_DAYS: '7' });
    // The handler's client is the synchronous triggers' own (functions/common/aws-clients.ts): a loopback endpoint answers it.
    const aws = withAwsEndpoint();
    beforeEach(() => aws.reset());

    it('returns the event unchanged and writes to the configured table with the configured retention', async () => {
      const { handler } = await loadHandler<typeof import('../../functions/post-authentication/index.ts')>('post-authentication');
      aws.on('PutItem', () => ({})).on('UpdateItem', () => ({})).on('DeleteItem', () => ({}));
      const event = postAuthenticationEvent();
      expect(await handler(event, lambdaContext('post-authentication'))).to.equal(event);
      // Without SIGN_IN_METHOD_MARKERS no sign-in method marker can exist, so none is looked for.
      expect(aws.inputs('GetItem')).to.have.length(0);
      const audit = aws.inputs('PutItem')[1]!;
      expect(audit.TableName).to.equal('users');
      const item = unmarshall(audit.Item as Parameters<typeof unmarshall>[0]);
      expect((item.expiresAt as number) - Math.floor(new Date(item.at as string).getTime() / 1000)).to.equal(7 * 86_400);
    });

    it('throws the generic message for a malformed event', async () => {
      const { handler } = await loadHandler<typeof import('../../functions/post-authentication/index.ts')>('post-authentication');
      const event = postAuthenticationEvent({ userAttributes: {} });
      // Imported after its environment is set, through a separate module graph, so matched by name.
      const error = await handler(event).catch((e: unknown) => e);
      expect(error).to.include({ name: 'UserFacingError', message: GENERIC_MESSAGE });
    });
  });
});
