/**
 * The two sender handlers as deployed: configuration from the environment, KMS decryption through the
 * KMS keyring, credentials from Secrets Manager, Powertools Idempotency over the real table schema
 * (dynalite), and the provider call over HTTP to a local stand-in, as in the sandbox.
 */
import { createRequire } from 'node:module';
import http from 'node:http';
import type net from 'node:net';
import type { Context, CustomEmailSenderTriggerEvent, CustomSMSSenderTriggerEvent } from 'aws-lambda';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { DecryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { expect } from 'chai';
import { logger } from '../../../functions/common/logger.ts';
import { confirmedUserAttributes, customEmailSenderEvent, customSmsSenderEvent, EMAIL, lambdaContext, POOL_ID } from '../../fixtures/events.ts';
import { encryptCode, FakeKms, KEY_ARN } from '../../fixtures/senders.ts';
import { captureLogs } from '../../fixtures/logs.ts';
import { listen } from '../../../sandbox/lib/http.ts';
import { createProjectTable } from '../../../sandbox/lib/table.ts';

const require = createRequire(import.meta.url);
// dynalite ships no types; this is the one call made.
const dynalite = require('dynalite') as (options: { createTableMs: number }) => http.Server;

const TABLE = 'sender-handlers';
const SENDGRID_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:sendgrid-AbCdEf';
const TWILIO_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:twilio-AbCdEf';
const TWILIO_SID = 'AC0123456789abcdef0123456789abcdef';
const SENDGRID_KEY = 'SG.handler-test-key';
const TWILIO_TOKEN = 'twilio-handler-token';

type Handler<E> = (event: E, context: Context) => Promise<void>;

describe('sender handlers (production wiring)', function () {
  this.timeout(30_000);
  // Created in before() and restored in after(): client mocks patch the class prototype for the whole process.
  let kms: AwsClientStub<KMSClient>;
  let sm: AwsClientStub<SecretsManagerClient>;
  const fake = new FakeKms();
  const deliveries: { url: string; authorization?: string; body: string }[] = [];
  let providerStatus = 202;
  let db: http.Server;
  let providers: http.Server;
  let emailHandler: Handler<CustomEmailSenderTriggerEvent>;
  let smsHandler: Handler<CustomSMSSenderTriggerEvent>;
  // The SDK resolves region and credentials lazily, so the environment stays in place until the suite ends.
  const savedEnv = { ...process.env };
  let level: string;

  before(async () => {
    level = logger.getLevelName();
    logger.setLogLevel('SILENT');
    kms = mockClient(KMSClient);
    sm = mockClient(SecretsManagerClient);
    db = dynalite({ createTableMs: 0 });
    const dbUrl = (await listen(db)).url;
    providers = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        deliveries.push({ url: req.url!, authorization: req.headers.authorization, body });
        res.writeHead(req.url!.startsWith('/v3/') ? providerStatus : providerStatus === 202 ? 201 : providerStatus).end('{}');
      });
    });
    const providerUrl = (await listen(providers)).url;
    Object.assign(process.env, {
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_ENDPOINT_URL_DYNAMODB: dbUrl,
      AWS_LAMBDA_FUNCTION_NAME: 'sender-handlers-test',
      KMS_KEY_ARN: KEY_ARN,
      TABLE_NAME: TABLE,
      SENDGRID_SECRET_ARN: SENDGRID_ARN,
      SENDGRID_API_BASE_URL: providerUrl,
      TWILIO_SECRET_ARN: TWILIO_ARN,
      TWILIO_API_BASE_URL: `${providerUrl}/`,
      APP_NAME: 'Middle-earth Mail',
      APP_URL: 'https://example.com',
      FROM_EMAIL_ADDRESS: 'no-reply@example.com',
      FROM_EMAIL_NAME: 'Middle-earth Mail',
      ALLOWED_EMAIL_DOMAINS: 'gmail.com',
      ALLOW_SUBDOMAINS: 'false',
    });
    const ddb = new DynamoDBClient({ endpoint: dbUrl, region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    await createProjectTable(ddb, TABLE);
    ({ handler: emailHandler } = await import('../../../functions/custom-email-sender/index.ts'));
    ({ handler: smsHandler } = await import('../../../functions/custom-sms-sender/index.ts'));
  });

  after(async () => {
    kms.restore();
    sm.restore();
    process.env = savedEnv;
    logger.setLogLevel(level as Parameters<typeof logger.setLogLevel>[0]);
    providers.closeAllConnections();
    await new Promise((resolve) => providers.close(resolve));
    await new Promise((resolve) => db.close(resolve));
  });

  beforeEach(() => {
    deliveries.length = 0;
    providerStatus = 202;
    kms.reset();
    kms.on(DecryptCommand).callsFake((input) => fake.decrypt(input));
    sm.reset();
    sm.on(GetSecretValueCommand, { SecretId: SENDGRID_ARN }).resolves({ SecretString: JSON.stringify({ apiKey: SENDGRID_KEY }) });
    sm.on(GetSecretValueCommand, { SecretId: TWILIO_ARN }).resolves({ SecretString: JSON.stringify({ accountSid: TWILIO_SID, authToken: TWILIO_TOKEN, fromNumber: '+15005550006' }) });
  });

  it('email: decrypts through KMS, sends through SendGrid once, and remembers it in the table', async () => {
    const code = await encryptCode(fake.keyring(), '314159', { 'userpool-id': POOL_ID });
    const event = customEmailSenderEvent({ code });
    await emailHandler(event, lambdaContext('custom-email-sender'));
    await emailHandler(structuredClone(event), lambdaContext('custom-email-sender'));
    expect(deliveries).to.have.length(1);
    expect(deliveries[0]!.url).to.equal('/v3/mail/send');
    expect(deliveries[0]!.authorization).to.equal(`Bearer ${SENDGRID_KEY}`);
    const body = JSON.parse(deliveries[0]!.body);
    expect(body.personalizations[0].to[0].email).to.equal(EMAIL);
    expect(body.content[0].value).to.include('314159');
    expect(kms.commandCalls(DecryptCommand)[0]!.args[0].input.KeyId).to.equal(KEY_ARN);
    const endpoint = `http://127.0.0.1:${(db.address() as net.AddressInfo).port}`;
    const items = await new DynamoDBClient({ endpoint, region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }).send(new ScanCommand({ TableName: TABLE }));
    const record = items.Items!.find((item) => item.status?.S === 'COMPLETED');
    expect(record?.pk?.S).to.match(/^idempotency#/);
    expect(record?.expiresAt?.N).to.match(/^\d+$/);
    expect(JSON.stringify(items.Items)).not.to.include('314159');
  });

  it('sms: decrypts through KMS and sends through Twilio with the secret read once per cold start', async () => {
    for (const digits of ['271828', '161803']) {
      const code = await encryptCode(fake.keyring(), digits, { 'userpool-id': POOL_ID });
      await smsHandler(customSmsSenderEvent({ code }), lambdaContext('custom-sms-sender'));
    }
    expect(deliveries).to.have.length(2);
    expect(deliveries[0]!.url).to.equal(`/2010-04-01/Accounts/${TWILIO_SID}/Messages.json`);
    expect(new URLSearchParams(deliveries[1]!.body).get('Body')).to.include('161803');
    // The cache was filled by an earlier cold start of this module or by this test; either way, at most one read here.
    expect(sm.commandCalls(GetSecretValueCommand).length).to.be.at.most(1);
  });

  it('throws when the provider fails and delivers exactly once on the retry, with nothing secret logged', async () => {
    const code = await encryptCode(fake.keyring(), '577215', { 'userpool-id': POOL_ID });
    const event = customEmailSenderEvent({ triggerSource: 'CustomEmailSender_ForgotPassword', code });
    providerStatus = 503;
    const failed = await captureLogs(() => emailHandler(event, lambdaContext('custom-email-sender')));
    expect(failed.error).to.have.property('name', 'ProviderError');
    providerStatus = 202;
    const retried = await captureLogs(() => emailHandler(event, lambdaContext('custom-email-sender')));
    expect(retried.error).to.equal(undefined);
    await emailHandler(event, lambdaContext('custom-email-sender'));
    expect(deliveries.filter((d) => d.body.includes('577215'))).to.have.length(2); // the refused attempt and the one delivery
    const logs = failed.output + retried.output;
    for (const secret of ['577215', code.slice(0, 16), EMAIL, SENDGRID_KEY]) expect(logs).not.to.include(secret);
  });

  it('refuses a code encrypted for another pool without calling SendGrid', async () => {
    const code = await encryptCode(fake.keyring(), '999999', { 'userpool-id': 'eu-west-1_OtherPool' });
    const { error } = await captureLogs(() => emailHandler(customEmailSenderEvent({ code }), lambdaContext('custom-email-sender')));
    expect(error).to.have.property('reason', 'wrong-pool');
    expect(deliveries).to.have.length(0);
  });

  it('email: returns without calling KMS or SendGrid for an address outside ALLOWED_EMAIL_DOMAINS, so Lambda does not retry', async () => {
    const code = await encryptCode(fake.keyring(), '141421', { 'userpool-id': POOL_ID });
    const event = customEmailSenderEvent({ triggerSource: 'CustomEmailSender_UpdateUserAttribute', code, userAttributes: confirmedUserAttributes({ email: 'x@evil-corp.example' }) });
    const { error, output: logs } = await captureLogs(() => emailHandler(event, lambdaContext('custom-email-sender')));
    expect(error).to.equal(undefined);
    expect(deliveries).to.have.length(0);
    expect(kms.commandCalls(DecryptCommand)).to.have.length(0);
    expect(logs).to.include('"level":"WARN"').and.not.include('"level":"ERROR"').and.not.include('x@evil-corp.example');
  });

  it('sms: texts nobody for an account whose email is outside ALLOWED_EMAIL_DOMAINS, without calling KMS or Twilio', async () => {
    const code = await encryptCode(fake.keyring(), '173205', { 'userpool-id': POOL_ID });
    const event = customSmsSenderEvent({ triggerSource: 'CustomSMSSender_VerifyUserAttribute', code, userAttributes: confirmedUserAttributes({ email: 'x@evil-corp.example', phone_number: '+447700900123' }) });
    const { error, output: logs } = await captureLogs(() => smsHandler(event, lambdaContext('custom-sms-sender')));
    expect(error).to.equal(undefined);
    expect(deliveries).to.have.length(0);
    expect(kms.commandCalls(DecryptCommand)).to.have.length(0);
    expect(logs).to.include('"level":"WARN"').and.include('"channel":"sms"').and.not.include('"level":"ERROR"').and.not.include('x@evil-corp.example');
  });
});
