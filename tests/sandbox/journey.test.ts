/**
 * End-to-end: the sign-up and sign-in journey through the local sandbox, driven with the AWS SDK's
 * Cognito client exactly as an app would, against the real bundles from dist/. Each test checks the
 * effect a user or operator would see (the delivered message, the table row, the token's claims).
 */
import { expect } from 'chai';
import {
  AdminCreateUserCommand,
  AdminDeleteUserCommand,
  AdminGetUserCommand,
  AdminSetUserPasswordCommand,
  CognitoIdentityProviderClient,
  ConfirmForgotPasswordCommand,
  ConfirmSignUpCommand,
  ForgotPasswordCommand,
  GetUserAttributeVerificationCodeCommand,
  InitiateAuthCommand,
  ResendConfirmationCodeCommand,
  SignUpCommand,
  VerifyUserAttributeCommand,
  type AttributeType,
} from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient, GetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { startSandbox, type Sandbox } from '../../sandbox/index.ts';
import { rejection as rejectionOf } from '../fixtures/promises.ts';
import { claims, codeIn } from '../fixtures/sandbox.ts';

/** The Cognito error a refused call rejects with. */
const rejection = (promise: Promise<unknown>) => rejectionOf<{ name: string; message: string }>(promise);

const PASSWORD = 'Second-Breakfast-42';

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}


function clients(sandbox: Sandbox) {
  const cognito = new CognitoIdentityProviderClient({ region: sandbox.endpoints.region, endpoint: sandbox.endpoints.cognito.endpoint, credentials: sandbox.credentials, maxAttempts: 1 });
  const dynamo = new DynamoDBClient({ region: sandbox.endpoints.region, endpoint: sandbox.endpoints.dynamodb.endpoint, credentials: sandbox.credentials });
  return { cognito, dynamo };
}

describe('sandbox journey (custom senders)', function () {
  this.timeout(60_000);
  let sandbox: Sandbox;
  let cognito: CognitoIdentityProviderClient;
  let dynamo: DynamoDBClient;
  let clientId: string;
  let frodoSub: string;
  let frodoRefresh: string | undefined;

  const signIn = (username: string, password: string) =>
    cognito.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: username, PASSWORD: password } }));
  const profile = async (sub: string) =>
    (await dynamo.send(new GetItemCommand({ TableName: sandbox.endpoints.dynamodb.tableName, Key: { pk: { S: `USER#${sub}` }, sk: { S: 'PROFILE' } }, ConsistentRead: true }))).Item;
  const sesTo = async (to: string) => (await sandbox.stores.ses()).filter((m) => m.to === to);
  const executionFor = (sub: string) => sandbox.workflows.find((input) => input.username === sub)[0];
  /** The lock notices an address received (notify-lockout, through SES). */
  const lockNotices = async (to: string) => (await sesTo(to)).filter((m) => /sign-in to your .+ account was paused/i.test(m.subject ?? ''));
  /** Waits for the stream to deliver every lock written so far, then counts the notices `to` received. */
  const settledLockNotices = async (to: string, atLeast: number) => {
    await waitUntil(async () => (await lockNotices(to)).length >= atLeast).catch(() => undefined);
    await sandbox.settle();
    return lockNotices(to);
  };
  /** Frodo's answer to the attempt that locked him, kept to compare with an unknown login's (6c). */
  let frodoLockAnswer: { name: string; message: string; status: number | undefined } | undefined;

  before(async function () {
    this.timeout(120_000);
    sandbox = await startSandbox({ waits: 'manual' });
    ({ cognito, dynamo } = clients(sandbox));
    clientId = sandbox.endpoints.cognito.clientId;
  });

  after(async () => {
    cognito?.destroy();
    dynamo?.destroy();
    await sandbox?.stop();
    expect(sandbox.pids(), 'no process outlives the sandbox').to.deep.equal([]);
  });

  it('1. refuses a sign-up from a domain not on the allowlist, saying why in Cognito’s format', async () => {
    const error = await rejection(cognito.send(new SignUpCommand({ ClientId: clientId, Username: 'saruman@isengard.com', Password: PASSWORD })));
    expect(error.name).to.equal('UserLambdaValidationException');
    expect(error.message).to.match(/^PreSignUp failed with error .+\.$/);
    // It says why: the domains that may sign up.
    expect(error.message).to.include('gmail.com');
    expect(sandbox.stores.sendgrid().filter((m) => m.to === 'saruman@isengard.com')).to.have.length(0);
  });

  it('2. Frodo signs up: his code arrives decrypted in a personalised SendGrid email and the reminder workflow starts', async () => {
    const result = await cognito.send(
      new SignUpCommand({ ClientId: clientId, Username: 'Frodo@Gmail.com', Password: PASSWORD, UserAttributes: [{ Name: 'email', Value: 'frodo@gmail.com' }, { Name: 'name', Value: 'Frodo Baggins' }] }),
    );
    frodoSub = result.UserSub!;
    expect(result.UserConfirmed).to.equal(false);
    const mail = await sandbox.stores.waitFor('sendgrid', (m) => m.to === 'frodo@gmail.com');
    expect(codeIn(mail)).to.match(/^\d{6}$/);
    expect(mail.text).to.include('Frodo');
    expect(mail.subject).to.be.a('string').and.not.equal('');
    const execution = executionFor(frodoSub);
    expect(execution, 'reminder execution').to.not.equal(undefined);
    expect(execution!.status).to.equal('RUNNING');
    expect(JSON.parse(execution!.input)).to.include({ userPoolId: sandbox.endpoints.cognito.userPoolId, username: frodoSub });
    expect(execution!.input).to.not.include('frodo@gmail.com');
  });

  it('3. Frodo, still unconfirmed, receives the reminder email when the wait is fast-forwarded', async () => {
    const released = await sandbox.workflows.fastForward((e) => e === executionFor(frodoSub), { awaitHold: true });
    expect(released).to.equal(1);
    const reminder = await sandbox.stores.waitFor('ses', (m) => m.to === 'frodo@gmail.com');
    expect(reminder.text.length).to.be.greaterThan(0);
    await sandbox.workflows.fastForward(() => false);
    const user = await cognito.send(new AdminGetUserCommand({ UserPoolId: sandbox.endpoints.cognito.userPoolId, Username: frodoSub }));
    expect(user.UserStatus).to.equal('UNCONFIRMED');
  });

  it('4. Frodo confirms with his code: his profile row is written and, through the table stream, exactly one welcome email is sent', async () => {
    const code = codeIn(sandbox.stores.sendgrid().find((m) => m.to === 'frodo@gmail.com')!);
    const before = (await sesTo('frodo@gmail.com')).length;
    await cognito.send(new ConfirmSignUpCommand({ ClientId: clientId, Username: 'frodo@gmail.com', ConfirmationCode: code }));
    const row = await profile(frodoSub);
    expect(row?.email?.S).to.equal('frodo@gmail.com');
    expect(row?.sub?.S).to.equal(frodoSub);
    await waitUntil(async () => (await sesTo('frodo@gmail.com')).length > before);
    await sandbox.settle();
    expect((await sesTo('frodo@gmail.com')).length - before, 'welcome emails').to.equal(1);
    // Sent through the table's stream: the profile's INSERT went to send-welcome-email, which marked it SENT.
    expect((await profile(frodoSub))?.welcomeEmail?.S).to.equal('SENT');
    const insert = [...sandbox.tableStream.records.values()].flat().find((r) => r.eventName === 'INSERT' && r.dynamodb?.Keys?.pk?.S === `USER#${frodoSub}`);
    expect(sandbox.mappings.deliveries.filter((d) => d.sequenceNumbers.includes(insert!.dynamodb!.SequenceNumber!)).map((d) => d.outcome)).to.deep.equal(['success']);
    // The workflow's deletion step now finds him confirmed and leaves him alone.
    await sandbox.workflows.fastForward((e) => e === executionFor(frodoSub), { awaitHold: true });
    await sandbox.workflows.settle();
    expect(executionFor(frodoSub)!.status).to.equal('SUCCEEDED');
    const user = await cognito.send(new AdminGetUserCommand({ UserPoolId: sandbox.endpoints.cognito.userPoolId, Username: frodoSub }));
    expect(user.UserStatus).to.equal('CONFIRMED');
  });

  it('5. Frodo signs in: tokens without an email claim, also after a refresh, and his last login recorded', async () => {
    const result = await signIn('frodo@gmail.com', PASSWORD);
    const id = claims(result.AuthenticationResult?.IdToken);
    expect(id.sub).to.equal(frodoSub);
    expect(id).to.not.have.property('email');
    expect(id).to.not.have.property('email_verified');
    frodoRefresh = result.AuthenticationResult?.RefreshToken;
    const refreshed = await cognito.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'REFRESH_TOKEN_AUTH', AuthParameters: { REFRESH_TOKEN: frodoRefresh! } }));
    const refreshedId = claims(refreshed.AuthenticationResult?.IdToken);
    expect(refreshedId.sub).to.equal(frodoSub);
    expect(refreshedId).to.not.have.property('email');
    const row = await profile(frodoSub);
    expect(row?.lastLoginAt, 'lastLoginAt').to.not.equal(undefined);
    expect(Number(row?.loginCount?.N)).to.equal(1);
    const audit = await dynamo.send(
      new QueryCommand({ TableName: sandbox.endpoints.dynamodb.tableName, KeyConditionExpression: 'pk = :pk AND begins_with(sk, :login)', ExpressionAttributeValues: { ':pk': { S: `USER#${frodoSub}` }, ':login': { S: 'LOGIN#' } } }),
    );
    expect(audit.Count).to.equal(1);
  });

  it('6. five wrong passwords lock Frodo out with the generic message, exactly one email tells him of the lock, and after the short lock he signs in', async () => {
    for (let i = 0; i < 5; i++) {
      const error = await rejection(signIn('frodo@gmail.com', `Wrong-Password-${i}x`));
      expect(error.name, `attempt ${i + 1}`).to.equal('NotAuthorizedException');
      expect(error.message).to.equal('Incorrect username or password.');
    }
    const locked = await rejection(signIn('frodo@gmail.com', PASSWORD));
    expect(locked.name).to.equal('UserLambdaValidationException');
    expect(locked.message).to.match(/^PreAuthentication failed with error .+\.$/);
    expect(locked.message).to.not.include('frodo');
    frodoLockAnswer = { name: locked.name, message: locked.message, status: (locked as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode };
    // The lock reaches notify-lockout through the table's stream: exactly one email, with the time, the
    // unchanged password and the reset page.
    const notices = await settledLockNotices('frodo@gmail.com', 1);
    expect(notices, 'lock notices').to.have.length(1);
    expect(notices[0]!.text).to.include('Your password was not changed.').and.match(/At \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    expect(notices[0]!.text).to.include(`Reset your password: ${sandbox.stack.functions.find((f) => f.name === 'notify-lockout')!.environment.ACCOUNT_RECOVERY_URL}`);
    const lockSeconds = Number(sandbox.stack.functions.find((f) => f.name === 'pre-authentication')!.environment.LOCKOUT_DURATION_SECONDS);
    expect(lockSeconds).to.be.at.most(10);
    await new Promise((r) => setTimeout(r, lockSeconds * 1000 + 250));
    const result = await signIn('frodo@gmail.com', PASSWORD);
    expect(result.AuthenticationResult?.AccessToken).to.be.a('string');
  });

  it('6b. locked out again, Frodo gets one email for this lock, resets his password: the reset clears the lock and the counter, and he signs in at once', async () => {
    const lockItem = async () =>
      (await dynamo.send(new GetItemCommand({ TableName: sandbox.endpoints.dynamodb.tableName, Key: { pk: { S: 'LOCKOUT#frodo@gmail.com' }, sk: { S: 'STATE' } }, ConsistentRead: true }))).Item;
    for (let i = 0; i < 5; i++) await rejection(signIn('frodo@gmail.com', `Wrong-Password-${i}y`));
    const lockedAt = Date.now();
    expect((await rejection(signIn('frodo@gmail.com', PASSWORD))).name).to.equal('UserLambdaValidationException');
    // Refused again during the lock: still the one lock, so still one email for it.
    expect((await rejection(signIn('frodo@gmail.com', PASSWORD))).name).to.equal('UserLambdaValidationException');
    const locked = await lockItem();
    expect(Number(locked?.lockedUntil?.N), 'locked').to.be.greaterThan(lockedAt);
    expect(Number(locked?.refused?.N)).to.be.at.least(2);
    expect(await settledLockNotices('frodo@gmail.com', 2), 'one notice for the lock of test 6, one for this lock').to.have.length(2);

    await cognito.send(new ForgotPasswordCommand({ ClientId: clientId, Username: 'frodo@gmail.com' }));
    const mail = await sandbox.stores.waitFor('sendgrid', (m) => m.to === 'frodo@gmail.com' && /reset your .+ password/i.test(m.subject ?? ''));
    await cognito.send(new ConfirmForgotPasswordCommand({ ClientId: clientId, Username: 'frodo@gmail.com', ConfirmationCode: codeIn(mail), Password: `${PASSWORD}-reset` }));
    const resets = sandbox.lambda.invocations.filter((i) => i.function.endsWith('post-confirmation') && i.error === undefined);
    expect(resets.length, 'post-confirmation ran for the reset').to.be.at.least(2);
    expect(await lockItem(), 'lock, counter and level cleared').to.equal(undefined);
    const result = await signIn('frodo@gmail.com', `${PASSWORD}-reset`);
    expect(result.AuthenticationResult?.AccessToken).to.be.a('string');
    expect(await settledLockNotices('frodo@gmail.com', 2), 'the reset and the sign-in tell nobody of a lock').to.have.length(2);
  });

  it('6c. an unknown login locked the same way gets the same answer, byte for byte, and nobody is emailed', async () => {
    const invocations = () => sandbox.mappings.deliveries.filter((d) => d.functionName.endsWith('notify-lockout')).length;
    const before = { invocations: invocations(), mail: (await sandbox.stores.ses()).length };
    for (let i = 0; i < 5; i++) {
      const error = await rejection(signIn('nobody-here@gmail.com', `Wrong-Password-${i}z`));
      expect(error.message, `attempt ${i + 1}`).to.equal('Incorrect username or password.');
    }
    const locked = await rejection(signIn('nobody-here@gmail.com', PASSWORD));
    const answer = { name: locked.name, message: locked.message, status: (locked as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode };
    expect(frodoLockAnswer, 'test 6 recorded the answer to an existing login').to.not.equal(undefined);
    expect(Buffer.from(JSON.stringify(answer)).equals(Buffer.from(JSON.stringify(frodoLockAnswer)))).to.equal(true);
    const item = await dynamo.send(new GetItemCommand({ TableName: sandbox.endpoints.dynamodb.tableName, Key: { pk: { S: 'LOCKOUT#nobody-here@gmail.com' }, sk: { S: 'STATE' } }, ConsistentRead: true }));
    expect(Number(item.Item?.lockedUntil?.N), 'locked').to.be.greaterThan(0);
    expect(item.Item, 'no owner on the lock').to.not.have.any.keys('lockOwner', 'lockPool');
    await new Promise((r) => setTimeout(r, 1_500));
    await sandbox.settle();
    expect(invocations(), 'the mapping never invoked notify-lockout for it').to.equal(before.invocations);
    expect((await sandbox.stores.ses()).length, 'no email to anyone').to.equal(before.mail);
  });

  it('7. Samwise never confirms: he is reminded, then deleted, and told so', async () => {
    const { UserSub } = await cognito.send(new SignUpCommand({ ClientId: clientId, Username: 'samwise@gmail.com', Password: PASSWORD, UserAttributes: [{ Name: 'name', Value: 'Samwise Gamgee' }] }));
    await sandbox.stores.waitFor('sendgrid', (m) => m.to === 'samwise@gmail.com');
    await sandbox.workflows.fastForward((e) => e === executionFor(UserSub!), { awaitHold: true });
    await sandbox.stores.waitFor('ses', (m) => m.to === 'samwise@gmail.com');
    await sandbox.workflows.fastForward((e) => e === executionFor(UserSub!), { awaitHold: true });
    await sandbox.workflows.settle();
    expect(executionFor(UserSub!)!.status).to.equal('SUCCEEDED');
    const gone = await rejection(cognito.send(new AdminGetUserCommand({ UserPoolId: sandbox.endpoints.cognito.userPoolId, Username: UserSub! })));
    expect(gone.name).to.equal('UserNotFoundException');
    const mails = await sesTo('samwise@gmail.com');
    expect(mails, 'reminder and deletion notice').to.have.length(2);
  });

  describe('8. Bilbo, who exists only in the legacy pool', () => {
    const legacy = () => sandbox.endpoints.cognito.legacyUserPoolId;
    before(async () => {
      const attributes: AttributeType[] = [
        { Name: 'email', Value: 'bilbo@gmail.com' },
        { Name: 'email_verified', Value: 'true' },
        { Name: 'name', Value: 'Bilbo Baggins' },
      ];
      await cognito.send(new AdminCreateUserCommand({ UserPoolId: legacy(), Username: 'bilbo@gmail.com', UserAttributes: attributes, MessageAction: 'SUPPRESS', TemporaryPassword: 'Temporary-Pass-1' }));
      await cognito.send(new AdminSetUserPasswordCommand({ UserPoolId: legacy(), Username: 'bilbo@gmail.com', Password: 'There-And-Back-1', Permanent: true }));
      await cognito.send(new AdminCreateUserCommand({ UserPoolId: legacy(), Username: 'lobelia@gmail.com', UserAttributes: [{ Name: 'email', Value: 'lobelia@gmail.com' }], MessageAction: 'SUPPRESS', TemporaryPassword: 'Temporary-Pass-1' }));
      await cognito.send(new AdminSetUserPasswordCommand({ UserPoolId: legacy(), Username: 'lobelia@gmail.com', Password: 'Sackville-Bag-1', Permanent: true }));
    });

    it('signs in to the new pool and is migrated with his attributes', async () => {
      const result = await signIn('bilbo@gmail.com', 'There-And-Back-1');
      expect(result.AuthenticationResult?.IdToken).to.be.a('string');
      const user = await cognito.send(new AdminGetUserCommand({ UserPoolId: sandbox.endpoints.cognito.userPoolId, Username: 'bilbo@gmail.com' }));
      const attrs = Object.fromEntries((user.UserAttributes ?? []).map((a) => [a.Name, a.Value]));
      expect(user.UserStatus).to.equal('CONFIRMED');
      expect(attrs).to.include({ email: 'bilbo@gmail.com', email_verified: 'true', name: 'Bilbo Baggins' });
    });

    it('then signs in without the legacy pool', async () => {
      await cognito.send(new AdminDeleteUserCommand({ UserPoolId: legacy(), Username: 'bilbo@gmail.com' }));
      const result = await signIn('bilbo@gmail.com', 'There-And-Back-1');
      expect(result.AuthenticationResult?.AccessToken).to.be.a('string');
    });

    it('gets the generic error for a wrong password during migration', async () => {
      const error = await rejection(signIn('lobelia@gmail.com', 'Not-Her-Password-1'));
      expect(error.name).to.equal('NotAuthorizedException');
      expect(error.message).to.equal('Incorrect username or password.');
      const missing = await rejection(cognito.send(new AdminGetUserCommand({ UserPoolId: sandbox.endpoints.cognito.userPoolId, Username: 'lobelia@gmail.com' })));
      expect(missing.name).to.equal('UserNotFoundException');
    });
  });

  it('9. a user with a phone number gets an SMS code through the Twilio stand-in', async () => {
    const { UserSub } = await cognito.send(
      new SignUpCommand({ ClientId: clientId, Username: 'rosie@gmail.com', Password: PASSWORD, UserAttributes: [{ Name: 'name', Value: 'Rosie Cotton' }, { Name: 'phone_number', Value: '+15555550123' }] }),
    );
    const code = codeIn(await sandbox.stores.waitFor('sendgrid', (m) => m.to === 'rosie@gmail.com'));
    await cognito.send(new ConfirmSignUpCommand({ ClientId: clientId, Username: 'rosie@gmail.com', ConfirmationCode: code }));
    const tokens = await signIn('rosie@gmail.com', PASSWORD);
    const delivery = await cognito.send(new GetUserAttributeVerificationCodeCommand({ AccessToken: tokens.AuthenticationResult!.AccessToken!, AttributeName: 'phone_number' }));
    expect(delivery.CodeDeliveryDetails?.DeliveryMedium).to.equal('SMS');
    const sms = await sandbox.stores.waitFor('twilio', (m) => m.to === '+15555550123');
    expect(sms.from).to.equal('+15005550006');
    await cognito.send(new VerifyUserAttributeCommand({ AccessToken: tokens.AuthenticationResult!.AccessToken!, AttributeName: 'phone_number', Code: codeIn(sms) }));
    const user = await cognito.send(new AdminGetUserCommand({ UserPoolId: sandbox.endpoints.cognito.userPoolId, Username: UserSub! }));
    expect(user.UserAttributes?.find((a) => a.Name === 'phone_number_verified')?.Value).to.equal('true');
  });
});

describe('sandbox journey (cognito delivery mode)', function () {
  this.timeout(60_000);
  let sandbox: Sandbox;
  let cognito: CognitoIdentityProviderClient;
  let dynamo: DynamoDBClient;

  before(async function () {
    this.timeout(120_000);
    sandbox = await startSandbox({ waits: 'manual', deliveryMode: 'cognito' });
    ({ cognito, dynamo } = clients(sandbox));
  });

  after(async () => {
    cognito?.destroy();
    dynamo?.destroy();
    await sandbox?.stop();
    expect(sandbox.pids()).to.deep.equal([]);
  });

  it('10. delivers the code in the message the custom-message trigger composed, not through the senders', async () => {
    expect(sandbox.stack.functions.map((f) => f.name)).to.not.include('custom-email-sender');
    const clientId = sandbox.endpoints.cognito.clientId;
    const { UserSub } = await cognito.send(new SignUpCommand({ ClientId: clientId, Username: 'merry@gmail.com', Password: PASSWORD, UserAttributes: [{ Name: 'name', Value: 'Merry Brandybuck' }] }));
    const mail = await sandbox.stores.waitFor('ses', (m) => m.to === 'merry@gmail.com');
    expect(mail.text).to.include('Merry');
    expect(mail.text).to.not.match(/^Your verification code is \d{6}\.$/);
    expect(sandbox.stores.sendgrid()).to.have.length(0);
    await cognito.send(new ConfirmSignUpCommand({ ClientId: clientId, Username: 'merry@gmail.com', ConfirmationCode: codeIn(mail) }));
    const row = await dynamo.send(new GetItemCommand({ TableName: sandbox.endpoints.dynamodb.tableName, Key: { pk: { S: `USER#${UserSub}` }, sk: { S: 'PROFILE' } } }));
    expect(row.Item?.email?.S).to.equal('merry@gmail.com');
  });

  it('11. resends the code in a message the custom-message trigger composed for ResendCode, and confirming with it verifies the email', async () => {
    const clientId = sandbox.endpoints.cognito.clientId;
    const { UserSub } = await cognito.send(new SignUpCommand({ ClientId: clientId, Username: 'pippin@gmail.com', Password: PASSWORD, UserAttributes: [{ Name: 'name', Value: 'Pippin Took' }] }));
    await sandbox.stores.waitFor('ses', (m) => m.to === 'pippin@gmail.com');
    const resent = await cognito.send(new ResendConfirmationCodeCommand({ ClientId: clientId, Username: 'pippin@gmail.com' }));
    expect(resent.CodeDeliveryDetails).to.deep.equal({ AttributeName: 'email', DeliveryMedium: 'EMAIL', Destination: 'p***@g***' });
    await waitUntil(async () => (await sandbox.stores.ses()).filter((m) => m.to === 'pippin@gmail.com').length === 2);
    const mails = (await sandbox.stores.ses()).filter((m) => m.to === 'pippin@gmail.com');
    expect(mails[1]!.text).to.include('Pippin');
    expect(codeIn(mails[1]!)).to.not.equal(codeIn(mails[0]!));
    const stale = await rejection(cognito.send(new ConfirmSignUpCommand({ ClientId: clientId, Username: 'pippin@gmail.com', ConfirmationCode: codeIn(mails[0]!) })));
    expect(stale.name, 'the first code is replaced').to.equal('CodeMismatchException');
    await cognito.send(new ConfirmSignUpCommand({ ClientId: clientId, Username: 'pippin@gmail.com', ConfirmationCode: codeIn(mails[1]!) }));
    const user = await cognito.send(new AdminGetUserCommand({ UserPoolId: sandbox.endpoints.cognito.userPoolId, Username: UserSub! }));
    expect(user.UserAttributes?.find((a) => a.Name === 'email_verified')?.Value).to.equal('true');
  });
});
