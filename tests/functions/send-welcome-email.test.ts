import { DeleteItemCommand, DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { MessageRejected, SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { expect } from 'chai';
import { sendWelcomeEmail, welcomeSender, type SendWelcomeEmailDeps, type WelcomeEmailMessage } from '../../functions/send-welcome-email/welcome.ts';
import { EMAIL, NAME, POOL_ID, SUB, lambdaContext } from '../fixtures/events.ts';
import { captureLogs } from '../fixtures/logs.ts';
import { MemoryPersistence } from './sender-support.ts';

const TABLE = 'cognito-triggers-test';
const NOW = Date.UTC(2025, 4, 6, 7, 8, 9);
const AT = new Date(NOW).toISOString();
const MESSAGE: WelcomeEmailMessage = { kind: 'welcome-email', userPoolId: POOL_ID, sub: SUB };

describe('send-welcome-email', () => {
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
  /** The profile row as the table holds it (post-confirmation wrote it PENDING). */
  let profile: Record<string, unknown> | undefined;

  beforeEach(() => {
    ddb.reset();
    ses.reset();
    store = new MemoryPersistence();
    profile = { pk: `USER#${SUB}`, sk: 'PROFILE', sub: SUB, email: EMAIL, name: NAME, welcomeEmail: 'PENDING', createdAt: AT, confirmedAt: AT };
    ddb.on(GetCommand).callsFake(() => (profile ? { Item: { ...profile } } : {}));
    ddb.on(UpdateCommand).callsFake((input: { ExpressionAttributeValues: Record<string, unknown> }) => {
      if (profile) profile = { ...profile, welcomeEmail: input.ExpressionAttributeValues[':sent'], welcomeEmailSentAt: input.ExpressionAttributeValues[':at'] };
      return {};
    });
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

  function send(message: unknown = MESSAGE) {
    const d = deps();
    return sendWelcomeEmail(message, d, welcomeSender(d, store), lambdaContext('send-welcome-email'));
  }

  const rejected = () => new MessageRejected({ message: `Email address is not verified: ${EMAIL}`, $metadata: {} });

  it('sends the welcome email to the address in the profile and marks the profile SENT', async () => {
    expect(await send()).to.deep.equal({ welcome: 'sent' });
    expect(ddb.commandCalls(GetCommand)[0]!.args[0].input).to.deep.include({ TableName: TABLE, Key: { pk: `USER#${SUB}`, sk: 'PROFILE' }, ConsistentRead: true });
    const sent = ses.commandCalls(SendEmailCommand);
    expect(sent).to.have.length(1);
    const input = sent[0]!.args[0].input;
    expect(input.Destination).to.deep.equal({ ToAddresses: [EMAIL] });
    expect(input.FromEmailAddress).to.equal('Acme Notes <no-reply@notes.example.com>');
    expect(input.Content?.Simple?.Subject?.Data).to.equal('Frodo Baggins, welcome to Acme Notes');
    expect(input.Content?.Simple?.Body?.Html?.Data).to.include('Hi Frodo Baggins,');
    expect(profile).to.include({ welcomeEmail: 'SENT', welcomeEmailSentAt: AT });
  });

  it('replayed twice (Lambda delivers at least once), sends exactly one welcome email', async () => {
    expect(await send()).to.deep.equal({ welcome: 'sent' });
    expect(await send()).to.deep.equal({ welcome: 'already-sent' });
    expect(ses.commandCalls(SendEmailCommand)).to.have.length(1);
  });

  it('sends once when the profile still says PENDING but an earlier attempt sent (only its SENT mark failed)', async () => {
    await send();
    profile = { ...profile, welcomeEmail: 'PENDING' };
    expect(await send()).to.deep.equal({ welcome: 'already-sent' });
    expect(ses.commandCalls(SendEmailCommand)).to.have.length(1);
    expect(profile).to.include({ welcomeEmail: 'SENT' });
  });

  it('throws while SES fails, so Lambda retries the event, and the retry after the failure sends once', async () => {
    ses.on(SendEmailCommand).rejectsOnce(rejected()).resolves({ MessageId: 'm' });
    const { lines, error } = await captureLogs(() => send());
    expect(error).to.have.property('name', 'WelcomeNotSentError');
    expect((error as Error).message).to.not.include(EMAIL);
    expect(lines.find((l) => l.welcomeEmail === 'retrying')).to.include({ level: 'ERROR', errorName: 'MessageRejected', emailDomain: 'gmail.com' });
    expect(profile).to.include({ welcomeEmail: 'PENDING' });
    expect(store.records.size, 'idempotency record released for the next attempt').to.equal(0);

    expect(await send()).to.deep.equal({ welcome: 'sent' });
    expect(await send()).to.deep.equal({ welcome: 'already-sent' });
    expect(ses.commandCalls(SendEmailCommand), '1 failed, then 1 delivered').to.have.length(2);
    expect(ddb.commandCalls(UpdateCommand), 'marked SENT once').to.have.length(1);
  });

  it('treats an unavailable idempotency store as a failed send (retried), never as a reason to send twice', async () => {
    store.failNextPut = Object.assign(new Error('timeout'), { name: 'TimeoutError' });
    const error = await send().catch((e: unknown) => e);
    expect(error).to.have.property('name', 'WelcomeNotSentError');
    expect(ses.commandCalls(SendEmailCommand)).to.have.length(0);
    expect(await send()).to.deep.equal({ welcome: 'sent' });
  });

  it('keys the welcome on pool and user: the same sub in another pool gets its own email', async () => {
    await send();
    profile = { ...profile, welcomeEmail: 'PENDING' };
    expect(await send({ ...MESSAGE, userPoolId: 'eu-west-1_Other' })).to.deep.equal({ welcome: 'sent' });
    expect(ses.commandCalls(SendEmailCommand)).to.have.length(2);
  });

  it('greets by givenName when the profile has no name', async () => {
    profile = { pk: `USER#${SUB}`, sk: 'PROFILE', sub: SUB, email: EMAIL, givenName: 'Sam', welcomeEmail: 'PENDING' };
    await send();
    expect(ses.commandCalls(SendEmailCommand)[0]!.args[0].input.Content?.Simple?.Body?.Text?.Data).to.match(/^Hi Sam,/);
  });

  it('drops, without throwing, a message that can never succeed: malformed, no profile, no address', async () => {
    const { lines } = await captureLogs(async () => {
      expect(await send({ ...MESSAGE, sub: '' })).to.deep.equal({ welcome: 'malformed' });
      expect(await send({ ...MESSAGE, userPoolId: 42 })).to.deep.equal({ welcome: 'malformed' });
      expect(await send({ ...MESSAGE, kind: 'something-else' })).to.deep.equal({ welcome: 'malformed' });
      expect(await send(null)).to.deep.equal({ welcome: 'malformed' });
      profile = undefined;
      expect(await send()).to.deep.equal({ welcome: 'no-profile' });
      profile = { pk: `USER#${SUB}`, sk: 'PROFILE', sub: SUB, welcomeEmail: 'PENDING' };
      expect(await send()).to.deep.equal({ welcome: 'no-email' });
    });
    expect(lines.filter((l) => l.level === 'ERROR').map((l) => l.welcomeEmail)).to.deep.equal(['malformed', 'malformed', 'malformed', 'malformed', 'no-profile']);
    expect(ses.calls()).to.have.length(0);
  });

  it('never logs the email address, the name or the sub in clear', async () => {
    ses.on(SendEmailCommand).rejectsOnce(rejected()).resolves({});
    const failed = await captureLogs(() => send());
    const sent = await captureLogs(() => send());
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
    let saved: NodeJS.ProcessEnv;
    before(() => {
      raw = mockClient(DynamoDBClient);
      saved = process.env;
      process.env = {
        ...saved,
        AWS_REGION: 'eu-west-1',
        AWS_LAMBDA_FUNCTION_NAME: 'send-welcome-email',
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

    it('runs end to end: idempotency record in the shared table, one email, and throws while SES fails', async () => {
      raw.reset();
      raw.on(PutItemCommand).resolves({});
      raw.on(UpdateItemCommand).resolves({});
      raw.on(DeleteItemCommand).resolves({});
      const { handler } = await import('../../functions/send-welcome-email/index.ts');
      ses.on(SendEmailCommand).rejectsOnce(rejected()).resolves({ MessageId: 'm' });
      const error = await handler(MESSAGE, lambdaContext('send-welcome-email')).catch((e: unknown) => e);
      expect(error).to.have.property('name', 'WelcomeNotSentError');
      expect(await handler(MESSAGE, lambdaContext('send-welcome-email'))).to.deep.equal({ welcome: 'sent' });
      expect(ses.commandCalls(SendEmailCommand)).to.have.length(2);
      const record = raw.commandCalls(PutItemCommand)[0]!.args[0].input;
      expect(record.TableName).to.equal(TABLE);
      expect(record.Item?.pk).to.deep.equal({ S: 'idempotency#send-welcome-email' });
      expect(record.Item?.sk?.S).to.be.a('string').and.not.include(SUB);
      expect(record.Item).to.have.property('expiresAt');
      expect(JSON.stringify(raw.calls().map((c) => c.args[0].input))).to.not.include(EMAIL);
      expect(profile).to.include({ welcomeEmail: 'SENT' });
    });
  });
});
