import { AdminGetUserCommand, CognitoIdentityProviderClient, UserNotFoundException } from '@aws-sdk/client-cognito-identity-provider';
import { DeleteItemCommand, DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { MessageRejected, SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import type { Context, DynamoDBStreamEvent } from 'aws-lambda';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { expect } from 'chai';
import { ConfigError, readAccountRecoveryUrl } from '../../functions/common/config.ts';
import { createDomainPolicy } from '../../functions/common/identity.ts';
import { handleLockRecords, lockNoticeKey, lockNoticeRequest, noticeSender, SEND_RESERVE_MS, type NotifyLockoutDeps } from '../../functions/notify-lockout/logic.ts';
import { EMAIL, LOCKED_AT, NAME, POOL_ID, SUB, lambdaContext, lockedLoginImage, pendingProfileImage, streamEvent, streamRecord } from '../fixtures/events.ts';
import { captureLogs, quietLogger } from '../fixtures/logs.ts';
import { MemoryPersistence } from '../fixtures/senders.ts';
import { withEnvironment } from '../fixtures/env.ts';

const RESET_URL = 'https://notes.example.com/reset-password';
const OTHER_SUB = '0d3f5a7c-1111-4e2b-8c9d-0a1b2c3d4e5f';

/** The record of the write that locked `login` (owned by `owner`), as the mapping delivers it. */
const lockRecord = (options: { sequenceNumber?: string; image?: Parameters<typeof lockedLoginImage>[0]; login?: string } = {}) =>
  streamRecord({ eventName: 'MODIFY', image: lockedLoginImage(options.image, options.login), ...(options.sequenceNumber ? { sequenceNumber: options.sequenceNumber } : {}) });

describe('notify-lockout', () => {
  quietLogger();
  // Created per suite and restored after it: client mocks patch the class prototype, which other suites mock too.
  let cognito: AwsClientStub<CognitoIdentityProviderClient>;
  let ses: AwsClientStub<SESv2Client>;
  before(() => {
    cognito = mockClient(CognitoIdentityProviderClient);
    ses = mockClient(SESv2Client);
  });
  after(() => {
    cognito.restore();
    ses.restore();
  });
  let store: MemoryPersistence;
  /** The pool's users, by username: their attributes as AdminGetUser returns them. */
  let users: Map<string, Record<string, string>>;

  beforeEach(() => {
    cognito.reset();
    ses.reset();
    store = new MemoryPersistence();
    users = new Map<string, Record<string, string>>([
      [SUB, { sub: SUB, email: EMAIL, email_verified: 'true', name: NAME }],
      [OTHER_SUB, { sub: OTHER_SUB, email: 'sam@gmail.com', email_verified: 'true' }],
    ]);
    cognito.on(AdminGetUserCommand).callsFake((input: { UserPoolId: string; Username: string }) => {
      const attributes = input.UserPoolId === POOL_ID ? users.get(input.Username) : undefined;
      if (!attributes) throw new UserNotFoundException({ message: 'User does not exist.', $metadata: {} });
      return { Username: input.Username, UserStatus: 'CONFIRMED', Enabled: true, UserAttributes: Object.entries(attributes).map(([Name, Value]) => ({ Name, Value })) };
    });
    ses.on(SendEmailCommand).resolves({ MessageId: 'notice-1' });
  });

  function deps(overrides: Partial<NotifyLockoutDeps> = {}): NotifyLockoutDeps {
    return {
      cognito: new CognitoIdentityProviderClient({ region: 'eu-west-1' }),
      ses: new SESv2Client({ region: 'eu-west-1' }),
      branding: { appName: 'Acme Notes', appUrl: 'https://notes.example.com' },
      from: { name: 'Acme Notes', address: 'no-reply@notes.example.com' },
      resetUrl: RESET_URL,
      domainPolicy: createDomainPolicy({ allowedDomains: ['gmail.com'], allowSubdomains: false }),
      ...overrides,
    };
  }

  function run(event: DynamoDBStreamEvent, d: NotifyLockoutDeps = deps(), context: Context = lambdaContext('notify-lockout')) {
    return handleLockRecords(event, d, noticeSender(d, store), context);
  }

  const sent = () => ses.commandCalls(SendEmailCommand).map((c) => c.args[0].input);
  const rejected = () => new MessageRejected({ message: `Email address is not verified: ${EMAIL}`, $metadata: {} });

  it('sends one email per lock to the owner’s verified address, read from the pool, never from the table', async () => {
    expect(await run(streamEvent(lockRecord()))).to.deep.equal({ batchItemFailures: [], outcomes: ['sent'] });
    expect(cognito.commandCalls(AdminGetUserCommand).map((c) => c.args[0].input)).to.deep.equal([{ UserPoolId: POOL_ID, Username: SUB }]);
    expect(sent()).to.have.length(1);
    expect(sent()[0]!.Destination).to.deep.equal({ ToAddresses: [EMAIL] });
    expect(sent()[0]!.FromEmailAddress).to.equal('Acme Notes <no-reply@notes.example.com>');
  });

  it('says when the lock began and ends, that the password was not changed, and links to the reset page', async () => {
    await run(streamEvent(lockRecord()));
    const content = sent()[0]!.Content!.Simple!;
    expect(content.Subject?.Data).to.equal('Frodo Baggins, sign-in to your Acme Notes account was paused');
    const text = content.Body!.Text!.Data!;
    expect(text).to.match(/^Hi Frodo Baggins,/);
    expect(text).to.include('At 2025-05-06 07:08 UTC').and.include('until 2025-05-06 07:13 UTC');
    expect(text).to.include('Your password was not changed.');
    expect(text).to.include(`Reset your password: ${RESET_URL}`);
    const html = content.Body!.Html!.Data!;
    expect(html).to.include(`href="${RESET_URL}"`).and.include('Your password was not changed.').and.include('2025-05-06 07:08 UTC');
  });

  it('without a reset page (the app has no URL), points to “Forgot your password?” and links nowhere', async () => {
    const { resetUrl: _none, ...noLink } = deps();
    await run(streamEvent(lockRecord()), noLink);
    const text = sent()[0]!.Content!.Simple!.Body!.Text!.Data!;
    expect(text).to.include('Forgot your password?').and.not.include('Reset your password:');
    expect(sent()[0]!.Content!.Simple!.Body!.Html!.Data!).to.not.include('<a href');
  });

  it('delivered again (a retried batch re-delivers it), sends nothing more and asks the pool nothing more', async () => {
    const event = streamEvent(lockRecord());
    expect((await run(event)).outcomes).to.deep.equal(['sent']);
    expect(await run(event)).to.deep.equal({ batchItemFailures: [], outcomes: ['already-handled'] });
    expect(await run(event)).to.deep.equal({ batchItemFailures: [], outcomes: ['already-handled'] });
    expect(sent()).to.have.length(1);
    expect(cognito.commandCalls(AdminGetUserCommand)).to.have.length(1);
  });

  it('tells each lock of the same login once: the next lock (a new lockedBy) gets its own email', async () => {
    await run(streamEvent(lockRecord()));
    const next = lockRecord({ image: { lockedBy: { S: 'attempt-0099' }, lockedAt: { N: String(LOCKED_AT + 3_600_000) }, lockedUntil: { N: String(LOCKED_AT + 4_200_000) } } });
    expect((await run(streamEvent(next, lockRecord()))).outcomes).to.deep.equal(['sent', 'already-handled']);
    expect(sent()).to.have.length(2);
    expect(lockNoticeKey(lockNoticeRequest(next) as never)).to.deep.equal({ purpose: 'lock-notice', pk: `LOCKOUT#${EMAIL}`, lockedBy: 'attempt-0099' });
  });

  it('reports a record whose send fails by its sequence number; the retry sends once', async () => {
    ses.on(SendEmailCommand).rejectsOnce(rejected()).resolves({ MessageId: 'm' });
    const event = streamEvent(lockRecord({ sequenceNumber: '4200' }));
    const { lines } = await captureLogs(async () => {
      expect(await run(event)).to.deep.equal({ batchItemFailures: [{ itemIdentifier: '4200' }], outcomes: ['failed'] });
    });
    expect(lines.find((l) => l.lockNotice === 'retrying')).to.include({ level: 'WARN', errorName: 'MessageRejected' });
    expect(store.records.size, 'idempotency record released for the next attempt').to.equal(0);
    expect(await run(event)).to.deep.equal({ batchItemFailures: [], outcomes: ['sent'] });
    expect(await run(event)).to.deep.equal({ batchItemFailures: [], outcomes: ['already-handled'] });
    expect(sent(), '1 failed, then 1 delivered').to.have.length(2);
  });

  it('keeps going after a failed record: later locks are told, only the failed one is reported, and the retry sends no one a second email', async () => {
    ses.on(SendEmailCommand).callsFake((input: { Destination: { ToAddresses: string[] } }) => {
      if (input.Destination.ToAddresses[0] === 'sam@gmail.com') throw rejected();
      return { MessageId: 'ok' };
    });
    users.set('pippin', { email: 'pippin@gmail.com', email_verified: 'true' });
    const event = streamEvent(
      lockRecord({ sequenceNumber: '100' }),
      lockRecord({ sequenceNumber: '101', login: 'sam@gmail.com', image: { lockOwner: { S: OTHER_SUB } } }),
      lockRecord({ sequenceNumber: '102', login: 'pippin@gmail.com', image: { lockOwner: { S: 'pippin' } } }),
    );
    expect(await run(event)).to.deep.equal({ batchItemFailures: [{ itemIdentifier: '101' }], outcomes: ['sent', 'failed', 'sent'] });
    ses.on(SendEmailCommand).resolves({ MessageId: 'ok' });
    expect((await run(streamEvent(...event.Records.slice(1)))).outcomes).to.deep.equal(['sent', 'already-handled']);
    expect(sent().map((i) => i.Destination?.ToAddresses?.[0])).to.deep.equal([EMAIL, 'sam@gmail.com', 'pippin@gmail.com', 'sam@gmail.com']);
  });

  it('treats an unavailable idempotency store as a failed record, never as a reason to send twice', async () => {
    store.failNextPut = Object.assign(new Error('timeout'), { name: 'TimeoutError' });
    const event = streamEvent(lockRecord());
    expect((await run(event)).batchItemFailures).to.deep.equal([{ itemIdentifier: '100000000000000000001' }]);
    expect(sent()).to.have.length(0);
    expect((await run(event)).outcomes).to.deep.equal(['sent']);
  });

  it('retries when the pool cannot be read, and sends once it can', async () => {
    cognito.on(AdminGetUserCommand).rejectsOnce(Object.assign(new Error('slow down'), { name: 'TooManyRequestsException', $metadata: {} }));
    const event = streamEvent(lockRecord({ sequenceNumber: '9' }));
    expect((await run(event)).batchItemFailures).to.deep.equal([{ itemIdentifier: '9' }]);
    cognito.on(AdminGetUserCommand).resolves({ Username: SUB, UserAttributes: [{ Name: 'email', Value: EMAIL }, { Name: 'email_verified', Value: 'true' }] });
    expect((await run(event)).outcomes).to.deep.equal(['sent']);
  });

  describe('nobody is written to when there is nobody to tell', () => {
    it('a lock on a login that does not exist (no owner in the image): dropped before any lookup', async () => {
      const { lockOwner: _owner, lockPool: _pool, ...unknownLogin } = lockedLoginImage({}, 'nobody@gmail.com');
      const { lines } = await captureLogs(async () => {
        expect(await run(streamEvent(streamRecord({ eventName: 'MODIFY', image: unknownLogin })))).to.deep.equal({ batchItemFailures: [], outcomes: ['not-an-owned-lock'] });
      });
      expect(lines.find((l) => l.lockNotice === 'not-an-owned-lock')).to.include({ level: 'INFO' });
      expect(cognito.calls()).to.have.length(0);
      expect(ses.calls()).to.have.length(0);
    });

    const outcomes: Array<[string, () => void, string]> = [
      ['an owner deleted since the lock', () => users.delete(SUB), 'owner-gone'],
      ['an owner whose address is not verified', () => users.set(SUB, { email: EMAIL, email_verified: 'false' }), 'no-verified-email'],
      ['an owner without an address', () => users.set(SUB, { phone_number: '+15005550006', email_verified: 'true' }), 'outside-domain-policy'],
      ['an owner whose address is outside the domain policy', () => users.set(SUB, { email: 'frodo@evil.example', email_verified: 'true' }), 'outside-domain-policy'],
    ];
    for (const [what, arrange, outcome] of outcomes) {
      it(`${what}: ${outcome}, remembered, so a re-delivery asks the pool nothing more`, async () => {
        arrange();
        const event = streamEvent(lockRecord());
        expect(await run(event)).to.deep.equal({ batchItemFailures: [], outcomes: [outcome] });
        expect(await run(event)).to.deep.equal({ batchItemFailures: [], outcomes: ['already-handled'] });
        expect(ses.calls()).to.have.length(0);
        expect(cognito.commandCalls(AdminGetUserCommand)).to.have.length(1);
      });
    }
  });

  describe('records that can never succeed are logged and dropped, not failed', () => {
    const cases: Array<[string, Parameters<typeof streamRecord>[0], string]> = [
      ['a REMOVE (a cleared lock, a TTL expiry)', { eventName: 'REMOVE', image: lockedLoginImage() }, 'not-an-owned-lock'],
      ['a profile', { image: pendingProfileImage() }, 'not-an-owned-lock'],
      ['an owner on another kind of item', { eventName: 'MODIFY', image: lockedLoginImage({ sk: { S: 'THROTTLE' } }) }, 'not-an-owned-lock'],
      ['a lock without the id of the attempt that engaged it', { eventName: 'MODIFY', image: lockedLoginImage({ lockedBy: { S: '' } }) }, 'malformed'],
      ['a lock that ends before it begins', { eventName: 'MODIFY', image: lockedLoginImage({ lockedUntil: { N: String(LOCKED_AT) } }) }, 'malformed'],
      ['a lock without its time', { eventName: 'MODIFY', image: lockedLoginImage({ lockedAt: { S: 'yesterday' } }) }, 'malformed'],
      ['an owner in a pool id that is not one', { eventName: 'MODIFY', image: lockedLoginImage({ lockPool: { S: 'not a pool' } }) }, 'malformed'],
      ['an image that is not DynamoDB JSON', { eventName: 'MODIFY', image: lockedLoginImage({ lockOwner: { X: 'what' } as never }) }, 'malformed'],
    ];
    for (const [what, options, reason] of cases) {
      it(`${what}: ${reason}`, async () => {
        const { lines } = await captureLogs(async () => {
          expect(await run(streamEvent(streamRecord(options)))).to.deep.equal({ batchItemFailures: [], outcomes: [reason] });
        });
        expect(lines.find((l) => l.lockNotice === reason)).to.include({ level: reason === 'malformed' ? 'ERROR' : 'INFO' });
        expect(cognito.calls()).to.have.length(0);
        expect(ses.calls()).to.have.length(0);
      });
    }

    it('an event without records, or no event at all', async () => {
      expect(await run(streamEvent())).to.deep.equal({ batchItemFailures: [], outcomes: [] });
      expect(await run(null as unknown as DynamoDBStreamEvent)).to.deep.equal({ batchItemFailures: [], outcomes: [] });
    });
  });

  it('starts no notice with less than the reserve left before the timeout, and reports the rest for a retry', async () => {
    let remaining = 20_000;
    const context: Context = { ...lambdaContext('notify-lockout'), getRemainingTimeInMillis: () => remaining };
    ses.on(SendEmailCommand).callsFake(() => {
      remaining = SEND_RESERVE_MS - 1;
      return { MessageId: 'slow' };
    });
    const event = streamEvent(lockRecord({ sequenceNumber: '1' }), lockRecord({ sequenceNumber: '2', login: 'sam@gmail.com', image: { lockOwner: { S: OTHER_SUB } } }));
    expect(await run(event, deps(), context)).to.deep.equal({ batchItemFailures: [{ itemIdentifier: '2' }], outcomes: ['sent', 'not-attempted'] });
    expect(sent()).to.have.length(1);
  });

  it('fails the whole batch when a record to tell has no sequence number, since it could not be reported alone', async () => {
    const record = lockRecord();
    const { SequenceNumber: _s, ...withoutSequence } = record.dynamodb!;
    const error = await run(streamEvent({ ...record, dynamodb: withoutSequence })).catch((e: unknown) => e);
    expect(error).to.have.property('name', 'NoticeNotSentError');
    expect(ses.calls()).to.have.length(0);
  });

  it('never logs the address, the name, the username or the login in clear', async () => {
    ses.on(SendEmailCommand).rejectsOnce(rejected()).resolves({});
    const failed = await captureLogs(() => run(streamEvent(lockRecord())));
    const handled = await captureLogs(() => run(streamEvent(lockRecord(), lockRecord(), streamRecord({ eventName: 'MODIFY', image: lockedLoginImage({ lockPool: { S: 'bad' } }) }))));
    for (const { output, lines } of [failed, handled]) {
      expect(lines.length).to.be.greaterThan(0);
      for (const secret of [EMAIL, 'frodo', NAME, SUB]) expect(output).to.not.include(secret);
    }
    expect(handled.lines.find((l) => l.lockNotice === 'sent')).to.include({ emailDomain: 'gmail.com', lockedAt: '2025-05-06T07:08:09.000Z' });
  });

  describe('configuration', () => {
    it('reads the reset page as an http(s) URL, and refuses anything else at cold start, naming the variable', () => {
      expect(readAccountRecoveryUrl({ ACCOUNT_RECOVERY_URL: 'https://app.example.com/reset-password/' })).to.equal('https://app.example.com/reset-password');
      expect(readAccountRecoveryUrl({})).to.equal(undefined);
      for (const bad of ['javascript:alert(1)', 'not a url']) {
        expect(() => readAccountRecoveryUrl({ ACCOUNT_RECOVERY_URL: bad }), bad).to.throw(ConfigError, 'ACCOUNT_RECOVERY_URL');
      }
    });
  });

  describe('handler', () => {
    let raw: AwsClientStub<DynamoDBClient>;
    withEnvironment({
      AWS_REGION: 'eu-west-1',
      AWS_LAMBDA_FUNCTION_NAME: 'notify-lockout',
      TABLE_NAME: 'cognito-triggers-test',
      APP_NAME: 'Acme Notes',
      APP_URL: 'https://notes.example.com',
      FROM_EMAIL_ADDRESS: 'no-reply@notes.example.com',
      FROM_EMAIL_NAME: 'Acme Notes',
      ALLOWED_EMAIL_DOMAINS: 'gmail.com',
      ALLOW_SUBDOMAINS: 'false',
      ACCOUNT_RECOVERY_URL: RESET_URL,
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
      const { handler } = await import('../../functions/notify-lockout/index.ts');
      ses.on(SendEmailCommand).rejectsOnce(rejected()).resolves({ MessageId: 'm' });
      const event = streamEvent(lockRecord({ sequenceNumber: '77' }));
      expect(await handler(event, lambdaContext('notify-lockout'))).to.deep.equal({ batchItemFailures: [{ itemIdentifier: '77' }] });
      expect(await handler(event, lambdaContext('notify-lockout'))).to.deep.equal({ batchItemFailures: [] });
      expect(sent()).to.have.length(2);
      expect(sent()[1]!.Content?.Simple?.Body?.Text?.Data).to.include(RESET_URL);
      const record = raw.commandCalls(PutItemCommand)[0]!.args[0].input;
      expect(record.Item?.pk).to.deep.equal({ S: 'idempotency#notify-lockout' });
      expect(record.Item?.sk?.S).to.be.a('string').and.not.include(SUB).and.not.include('attempt-0001');
      expect(record.Item).to.have.property('expiresAt');
      expect(JSON.stringify(raw.calls().map((c) => c.args[0].input))).to.not.include(EMAIL);
    });
  });
});
