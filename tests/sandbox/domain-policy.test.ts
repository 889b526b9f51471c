/**
 * Black-box: the email-domain policy on every path into the pool, tried as an attacker would, with the
 * AWS SDK against the sandbox and the real bundles. Each path is one that guarded sign-up only before:
 * moving an account to another domain (as the user and as an administrator), writing a verification
 * flag, admin-created users, and lazy migration from the legacy pool.
 */
import { expect } from 'chai';
import {
  AdminCreateUserCommand,
  AdminGetUserCommand,
  AdminSetUserPasswordCommand,
  AdminUpdateUserAttributesCommand,
  CognitoIdentityProviderClient,
  ConfirmSignUpCommand,
  GetUserAttributeVerificationCodeCommand,
  InitiateAuthCommand,
  SignUpCommand,
  UpdateUserAttributesCommand,
  VerifyUserAttributeCommand,
  type AttributeType,
} from '@aws-sdk/client-cognito-identity-provider';
import { startSandbox, type Sandbox } from '../../sandbox/index.ts';
import type { StoredMessage } from '../../sandbox/providers.ts';
import { rejection as rejectionOf } from '../fixtures/promises.ts';

const rejection = (promise: Promise<unknown>) => rejectionOf<{ name: string; message: string }>(promise);
const PASSWORD = 'Second-Breakfast-42';
const OUTSIDE = 'x@evil-corp.example';
/** What an attacker puts in their name to turn the confirmation message into an advertisement. */
const RELAY_TEXT = 'Cheap rings at evil-corp.example';
const INCORRECT = { name: 'NotAuthorizedException', message: 'Incorrect username or password.' };

function codeIn(message: StoredMessage): string {
  const match = /\b(\d{6})\b/.exec(message.text);
  expect(match, `a 6-digit code in: ${message.text}`).to.not.equal(null);
  return match![1]!;
}

function attributesOf(list: AttributeType[] | undefined): Record<string, string | undefined> {
  return Object.fromEntries((list ?? []).map((a) => [a.Name, a.Value]));
}

/** Everything a user-facing store holds, across every channel. */
async function allMessages(sandbox: Sandbox): Promise<StoredMessage[]> {
  return [...sandbox.stores.sendgrid(), ...sandbox.stores.twilio(), ...sandbox.stores.sns(), ...(await sandbox.stores.ses())];
}

/** The sandbox's Cognito, its ids, and the steps every scenario repeats. */
function harness(get: () => Sandbox) {
  const cognito = () =>
    new CognitoIdentityProviderClient({ region: get().endpoints.region, endpoint: get().endpoints.cognito.endpoint, credentials: get().credentials, maxAttempts: 1 });
  let client: CognitoIdentityProviderClient | undefined;
  const send: CognitoIdentityProviderClient['send'] = ((command: never) => (client ??= cognito()).send(command)) as CognitoIdentityProviderClient['send'];
  const poolId = () => get().endpoints.cognito.userPoolId;
  const clientId = () => get().endpoints.cognito.clientId;
  const signIn = (username: string, password = PASSWORD) =>
    send(new InitiateAuthCommand({ ClientId: clientId(), AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: username, PASSWORD: password } }));
  const user = async (username: string) => attributesOf((await send(new AdminGetUserCommand({ UserPoolId: poolId(), Username: username }))).UserAttributes);
  /** Messages to `to` on any channel, once every asynchronous sender has finished. */
  const messagesTo = async (to: string) => {
    await get().settle();
    return (await allMessages(get())).filter((m) => m.to.toLowerCase() === to.toLowerCase());
  };
  /**
   * Marks the address verified, as Cognito's ConfirmSignUp does with the address the code went to
   * (cognito-local leaves the flag unset), so that these scenarios start from a verified address.
   */
  const markVerified = (email: string) =>
    send(new AdminUpdateUserAttributesCommand({ UserPoolId: poolId(), Username: email, UserAttributes: [{ Name: 'email', Value: email }, { Name: 'email_verified', Value: 'true' }] }));
  return { send, poolId, clientId, signIn, user, messagesTo, markVerified, destroy: () => client?.destroy() };
}

describe('sandbox: the email-domain policy on every path (custom senders)', function () {
  this.timeout(90_000);
  let sandbox: Sandbox;
  const h = harness(() => sandbox);

  /** Signs a user up at an allowed address, confirms them with the code they were sent, and returns their access token. */
  async function confirmedUser(email: string, name = 'Frodo Baggins'): Promise<string> {
    await h.send(new SignUpCommand({ ClientId: h.clientId(), Username: email, Password: PASSWORD, UserAttributes: [{ Name: 'name', Value: name }] }));
    const code = codeIn(await sandbox.stores.waitFor('sendgrid', (m) => m.to === email));
    await h.send(new ConfirmSignUpCommand({ ClientId: h.clientId(), Username: email, ConfirmationCode: code }));
    await h.markVerified(email);
    return (await h.signIn(email)).AuthenticationResult!.AccessToken!;
  }

  before(async function () {
    this.timeout(120_000);
    sandbox = await startSandbox({ waits: 'manual' });
  });

  after(async () => {
    h.destroy();
    await sandbox?.stop();
  });

  describe('a confirmed user moves their account to a domain that is not allowed', () => {
    let token: string;
    before(async () => {
      token = await confirmedUser('frodo@gmail.com');
      await h.send(new UpdateUserAttributesCommand({ AccessToken: token, UserAttributes: [{ Name: 'email', Value: OUTSIDE }, { Name: 'name', Value: RELAY_TEXT }] }));
    });

    it('no message of any kind reaches that address, nor carries the text the user chose', async () => {
      expect(await h.messagesTo(OUTSIDE)).to.deep.equal([]);
      expect((await allMessages(sandbox)).filter((m) => `${m.subject ?? ''} ${m.text}`.includes(RELAY_TEXT))).to.deep.equal([]);
    });

    it('because the custom email sender refused it: a WARN naming the domain, and no retry', async () => {
      const refusals = sandbox.lambda.logs.filter((l) => l.function === 'custom-email-sender' && l.line.includes('outside the domain policy'));
      expect(refusals, 'one refusal, not one per retry').to.have.length(1);
      expect(JSON.parse(refusals[0]!.line)).to.include({ level: 'WARN', emailDomain: 'evil-corp.example', kind: 'UpdateUserAttribute' });
    });

    it('the account keeps its verified allowed email, and is still found by it', async () => {
      expect(await h.user('frodo@gmail.com')).to.include({ email: 'frodo@gmail.com', email_verified: 'true' });
    });

    it('nobody can sign in as the new address; the owner still signs in with the verified one', async () => {
      expect(await rejection(h.signIn(OUTSIDE))).to.include(INCORRECT);
      expect((await h.signIn('frodo@gmail.com')).AuthenticationResult?.IdToken).to.be.a('string');
    });

    it('asking for the code again delivers nothing either, and no guessed code verifies the address', async () => {
      await h.send(new GetUserAttributeVerificationCodeCommand({ AccessToken: token, AttributeName: 'email' }));
      expect(await h.messagesTo(OUTSIDE)).to.deep.equal([]);
      const error = await rejection(h.send(new VerifyUserAttributeCommand({ AccessToken: token, AttributeName: 'email', Code: '000000' })));
      expect(error.name).to.equal('CodeMismatchException');
      expect(await h.user('frodo@gmail.com')).to.include({ email: 'frodo@gmail.com', email_verified: 'true' });
    });

    it('a code texted to the user’s own phone verifies the phone only, never the pending address', async () => {
      const phone = '+447700900456';
      await h.send(new UpdateUserAttributesCommand({ AccessToken: token, UserAttributes: [{ Name: 'phone_number', Value: phone }] }));
      await h.send(new GetUserAttributeVerificationCodeCommand({ AccessToken: token, AttributeName: 'phone_number' }));
      // The text names the account by its verified address, so the SMS sender delivers it.
      const code = codeIn(await sandbox.stores.waitFor('twilio', (m) => m.to === phone));
      const misuse = await rejection(h.send(new VerifyUserAttributeCommand({ AccessToken: token, AttributeName: 'email', Code: code })));
      expect(misuse.name).to.equal('CodeMismatchException');
      await h.send(new VerifyUserAttributeCommand({ AccessToken: token, AttributeName: 'phone_number', Code: code }));
      expect(await h.user('frodo@gmail.com')).to.include({ email: 'frodo@gmail.com', email_verified: 'true', phone_number: phone, phone_number_verified: 'true' });
      expect(await rejection(h.signIn(OUTSIDE))).to.include(INCORRECT);
      expect(await h.messagesTo(OUTSIDE)).to.deep.equal([]);
    });
  });

  describe('a confirmed user moves to another allowed address', () => {
    let token: string;
    before(async () => {
      token = await confirmedUser('samwise@gmail.com', 'Samwise Gamgee');
    });

    it('keeps the old address in force until the code sent to the new one is typed, then switches sign-in to the new one', async () => {
      const { CodeDeliveryDetailsList } = await h.send(new UpdateUserAttributesCommand({ AccessToken: token, UserAttributes: [{ Name: 'email', Value: 'samwise@icloud.com' }] }));
      expect(CodeDeliveryDetailsList?.[0]).to.include({ AttributeName: 'email', DeliveryMedium: 'EMAIL' });
      const mail = await sandbox.stores.waitFor('sendgrid', (m) => m.to === 'samwise@icloud.com');
      expect(await h.user('samwise@gmail.com')).to.include({ email: 'samwise@gmail.com', email_verified: 'true' });
      expect(await rejection(h.signIn('samwise@icloud.com'))).to.include(INCORRECT);
      expect((await h.signIn('samwise@gmail.com')).AuthenticationResult).to.not.equal(undefined);

      await h.send(new VerifyUserAttributeCommand({ AccessToken: token, AttributeName: 'email', Code: codeIn(mail) }));
      expect(await h.user('samwise@icloud.com')).to.include({ email: 'samwise@icloud.com', email_verified: 'true' });
      expect((await h.signIn('samwise@icloud.com')).AuthenticationResult).to.not.equal(undefined);
      expect(await rejection(h.signIn('samwise@gmail.com'))).to.include(INCORRECT);
    });
  });

  describe('verification flags', () => {
    it('no app client may mark an address verified itself, at sign-up or afterwards', async () => {
      const token = await confirmedUser('pippin@gmail.com', 'Peregrin Took');
      const update = await rejection(h.send(new UpdateUserAttributesCommand({ AccessToken: token, UserAttributes: [{ Name: 'email', Value: OUTSIDE }, { Name: 'email_verified', Value: 'true' }] })));
      expect(update).to.include({ name: 'NotAuthorizedException', message: 'A client attempted to write unauthorized attribute' });
      const signUp = await rejection(
        h.send(new SignUpCommand({ ClientId: h.clientId(), Username: 'merry@gmail.com', Password: PASSWORD, UserAttributes: [{ Name: 'email_verified', Value: 'true' }] })),
      );
      expect(signUp.name).to.equal('NotAuthorizedException');
      expect(await h.user('pippin@gmail.com')).to.include({ email: 'pippin@gmail.com', email_verified: 'true' });
    });
  });

  describe('administrators', () => {
    it('AdminCreateUser at a domain that is not allowed is refused, and the user does not exist', async () => {
      const error = await rejection(h.send(new AdminCreateUserCommand({ UserPoolId: h.poolId(), Username: 'saruman@isengard.example', UserAttributes: [{ Name: 'email', Value: 'saruman@isengard.example' }] })));
      expect(error.name).to.equal('UserLambdaValidationException');
      expect(error.message).to.match(/^PreSignUp failed with error Sign-up is open only to .+\.$/);
      expect((await rejection(h.user('saruman@isengard.example'))).name).to.equal('UserNotFoundException');
      expect(await h.messagesTo('saruman@isengard.example')).to.deep.equal([]);
    });

    it('AdminUpdateUserAttributes holds a new address outside the list pending, and nothing reaches it', async () => {
      await confirmedUser('rosie@gmail.com', 'Rosie Cotton');
      await h.send(new AdminUpdateUserAttributesCommand({ UserPoolId: h.poolId(), Username: 'rosie@gmail.com', UserAttributes: [{ Name: 'email', Value: 'rosie@evil-corp.example' }] }));
      expect(await h.messagesTo('rosie@evil-corp.example')).to.deep.equal([]);
      expect(await h.user('rosie@gmail.com')).to.include({ email: 'rosie@gmail.com', email_verified: 'true' });
      expect(await rejection(h.signIn('rosie@evil-corp.example'))).to.include(INCORRECT);
    });

    it('an administrator who forces a verified address outside the list leaves an account that gets no tokens', async () => {
      await confirmedUser('lobelia@gmail.com', 'Lobelia Sackville-Baggins');
      await h.send(
        new AdminUpdateUserAttributesCommand({
          UserPoolId: h.poolId(),
          Username: 'lobelia@gmail.com',
          UserAttributes: [{ Name: 'email', Value: 'lobelia@evil-corp.example' }, { Name: 'email_verified', Value: 'true' }],
        }),
      );
      // Cognito applies this at once and runs no trigger; the last gate, pre-token-generation, refuses.
      expect(await h.user('lobelia@evil-corp.example')).to.include({ email: 'lobelia@evil-corp.example', email_verified: 'true' });
      const error = await rejection(h.signIn('lobelia@evil-corp.example'));
      expect(error.name).to.equal('UserLambdaValidationException');
      expect(error.message).to.equal('PreTokenGeneration failed with error Sign-in is open only to email addresses at gmail.com, icloud.com or outlook.com.');
      expect(await h.messagesTo('lobelia@evil-corp.example')).to.deep.equal([]);
    });
  });

  describe('lazy migration from the legacy pool', () => {
    const legacyUser = async (email: string, password: string, verified: boolean) => {
      const legacy = sandbox.endpoints.cognito.legacyUserPoolId;
      const attributes: AttributeType[] = [{ Name: 'email', Value: email }, ...(verified ? [{ Name: 'email_verified', Value: 'true' }] : [])];
      await h.send(new AdminCreateUserCommand({ UserPoolId: legacy, Username: email, UserAttributes: attributes, MessageAction: 'SUPPRESS', TemporaryPassword: 'Temporary-Pass-1' }));
      await h.send(new AdminSetUserPasswordCommand({ UserPoolId: legacy, Username: email, Password: password, Permanent: true }));
    };

    it('a legacy user at a domain that is not allowed is not migrated, with the generic refusal', async () => {
      await legacyUser('grima@isengard.example', 'Wormtongue-Ways-1', true);
      expect(await rejection(h.signIn('grima@isengard.example', 'Wormtongue-Ways-1'))).to.include(INCORRECT);
      expect((await rejection(h.user('grima@isengard.example'))).name).to.equal('UserNotFoundException');
    });

    it('an unverified legacy email arrives unverified, and a verified one verified', async () => {
      await legacyUser('hamfast@gmail.com', 'Old-Gaffer-Taters-2', false);
      await legacyUser('bell@gmail.com', 'Bagshot-Row-Bell-3', true);
      expect((await h.signIn('hamfast@gmail.com', 'Old-Gaffer-Taters-2')).AuthenticationResult).to.not.equal(undefined);
      expect((await h.signIn('bell@gmail.com', 'Bagshot-Row-Bell-3')).AuthenticationResult).to.not.equal(undefined);
      expect(await h.user('hamfast@gmail.com')).to.include({ email: 'hamfast@gmail.com', email_verified: 'false' });
      expect(await h.user('bell@gmail.com')).to.include({ email: 'bell@gmail.com', email_verified: 'true' });
    });
  });
});

describe('sandbox: the email-domain policy on every path (cognito delivery mode)', function () {
  this.timeout(90_000);
  let sandbox: Sandbox;
  const h = harness(() => sandbox);
  let token: string;

  before(async function () {
    this.timeout(120_000);
    sandbox = await startSandbox({ waits: 'manual', deliveryMode: 'cognito' });
    await h.send(new SignUpCommand({ ClientId: h.clientId(), Username: 'merry@gmail.com', Password: PASSWORD, UserAttributes: [{ Name: 'name', Value: 'Merry Brandybuck' }] }));
    const code = codeIn(await sandbox.stores.waitFor('ses', (m) => m.to === 'merry@gmail.com'));
    await h.send(new ConfirmSignUpCommand({ ClientId: h.clientId(), Username: 'merry@gmail.com', ConfirmationCode: code }));
    await h.markVerified('merry@gmail.com');
    token = (await h.signIn('merry@gmail.com')).AuthenticationResult!.AccessToken!;
  });

  after(async () => {
    h.destroy();
    await sandbox?.stop();
  });

  it('refuses the move with the custom-message trigger’s reason, and nothing reaches the address', async () => {
    const error = await rejection(h.send(new UpdateUserAttributesCommand({ AccessToken: token, UserAttributes: [{ Name: 'email', Value: OUTSIDE }, { Name: 'name', Value: RELAY_TEXT }] })));
    expect(error.name).to.equal('UserLambdaValidationException');
    expect(error.message).to.equal('CustomMessage failed with error Your email address can only be changed to one at gmail.com, icloud.com or outlook.com.');
    expect(await h.messagesTo(OUTSIDE)).to.deep.equal([]);
    expect(await h.user('merry@gmail.com')).to.include({ email: 'merry@gmail.com', email_verified: 'true' });
    expect(await rejection(h.signIn(OUTSIDE))).to.include(INCORRECT);
  });

  it('sends the code for an allowed new address to that address, in the message custom-message composed', async () => {
    await h.send(new UpdateUserAttributesCommand({ AccessToken: token, UserAttributes: [{ Name: 'email', Value: 'merry@outlook.com' }] }));
    const mail = await sandbox.stores.waitFor('ses', (m) => m.to === 'merry@outlook.com');
    // The trigger's event named the pending address, the one the code goes to.
    expect(mail.text).to.include('This message was sent to merry@outlook.com');
    await h.send(new VerifyUserAttributeCommand({ AccessToken: token, AttributeName: 'email', Code: codeIn(mail) }));
    expect(await h.user('merry@outlook.com')).to.include({ email: 'merry@outlook.com', email_verified: 'true' });
  });
});
