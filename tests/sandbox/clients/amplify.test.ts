/**
 * aws-amplify v6, configured as an app team configures it for the sandbox (user pool id, client id
 * and `userPoolEndpoint`, every other setting its default), through sign-up, sign-in by SRP,
 * refresh, attributes, password change and reset, and sign-out, in Node. Each test checks what the
 * app or the user would see, and, where a trigger is involved, that the trigger ran.
 */
import { expect } from 'chai';
import { Amplify } from 'aws-amplify';
import {
  confirmResetPassword,
  confirmSignIn,
  confirmSignUp,
  confirmUserAttribute,
  deleteUser,
  fetchAuthSession,
  fetchUserAttributes,
  resendSignUpCode,
  resetPassword,
  signIn,
  signOut,
  signUp,
  updatePassword,
  updateUserAttributes,
} from 'aws-amplify/auth';
import { GetUserCommand } from '@aws-sdk/client-cognito-identity-provider';
import { rejection } from '../../fixtures/promises.ts';
import { claims } from '../../fixtures/sandbox.ts';
import { lockout, startClientSandbox, type ClientSandbox } from './app.ts';

const PASSWORD = 'Second-Breakfast-42';
const failure = (promise: Promise<unknown>) => rejection<{ name: string; message: string }>(promise);

describe('sandbox with aws-amplify v6 defaults', function () {
  this.timeout(60_000);
  let app: ClientSandbox;

  before(async function () {
    this.timeout(120_000);
    app = await startClientSandbox();
    Amplify.configure({ Auth: { Cognito: { userPoolId: app.userPoolId, userPoolClientId: app.clientId, userPoolEndpoint: app.endpoint } } });
  });

  afterEach(async () => {
    await signOut().catch(() => undefined);
  });

  after(async () => {
    await app?.stop();
  });

  it('signs up, resends the code through the custom email sender, confirms with it, and the email is then verified', async () => {
    const result = await signUp({ username: 'merry@gmail.com', password: PASSWORD, options: { userAttributes: { email: 'merry@gmail.com', name: 'Merry Brandybuck' } } });
    expect(result.nextStep.signUpStep).to.equal('CONFIRM_SIGN_UP');
    const first = await app.codeMailed('merry@gmail.com');
    const resent = await resendSignUpCode({ username: 'merry@gmail.com' });
    expect(resent.deliveryMedium).to.equal('EMAIL');
    expect(resent.destination, 'masked as Cognito masks it').to.equal('m***@g***');
    const code = await app.codeMailed('merry@gmail.com', 1);
    expect(app.mailsTo('merry@gmail.com')).to.equal(2);
    expect(code, 'a new code').to.not.equal(first);
    const confirmed = await confirmSignUp({ username: 'merry@gmail.com', confirmationCode: code });
    expect(confirmed.isSignUpComplete).to.equal(true);
    const user = await app.getUser(result.userId!);
    expect(user.UserStatus).to.equal('CONFIRMED');
    expect(user.UserAttributes?.find((a) => a.Name === 'email_verified')?.Value).to.equal('true');
  });

  it('signs in by SRP, the default flow: the triggers run, the ID token has no email, and the attributes are readable', async () => {
    await app.createUser('pippin@gmail.com', PASSWORD, { name: 'Peregrin Took' });
    const sub = (await app.getUser('pippin@gmail.com')).UserAttributes!.find((a) => a.Name === 'sub')!.Value!;
    const before = await app.signInsRecorded(sub);
    const result = await signIn({ username: 'pippin@gmail.com', password: PASSWORD });
    expect(result).to.deep.equal({ isSignedIn: true, nextStep: { signInStep: 'DONE' } });
    const session = await fetchAuthSession();
    const id = claims(session.tokens?.idToken?.toString());
    expect(id.sub).to.equal(sub);
    expect(id, 'pre token generation removed it').to.not.have.property('email');
    expect(await app.signInsRecorded(sub), 'post authentication recorded the sign-in').to.equal(before + 1);
    const attributes = await fetchUserAttributes();
    expect(attributes).to.include({ email: 'pippin@gmail.com', name: 'Peregrin Took', email_verified: 'true' });
  });

  it('refreshes the session with GetTokensFromRefreshToken, keeping the claims the triggers shape', async () => {
    await app.createUser('rosie@gmail.com', PASSWORD);
    await signIn({ username: 'rosie@gmail.com', password: PASSWORD });
    const first = await fetchAuthSession();
    const calls = app.sandbox.cognito.calls.length;
    const refreshed = await fetchAuthSession({ forceRefresh: true });
    expect(app.sandbox.cognito.calls.slice(calls).map((c) => c.operation)).to.include('GetTokensFromRefreshToken');
    expect(refreshed.tokens?.accessToken.toString()).to.not.equal(first.tokens?.accessToken.toString());
    const id = claims(refreshed.tokens?.idToken?.toString());
    expect(id.sub).to.equal(claims(first.tokens?.idToken?.toString()).sub);
    expect(id).to.not.have.property('email');
    expect((await fetchUserAttributes()).email).to.equal('rosie@gmail.com');
  });

  it('gives the password flow’s error for a wrong password and for an unknown user, and never migrates on SRP', async () => {
    await app.createUser('lotho@gmail.com', PASSWORD);
    const wrong = await failure(signIn({ username: 'lotho@gmail.com', password: 'Not-His-Password-1' }));
    expect([wrong.name, wrong.message]).to.deep.equal(['NotAuthorizedException', 'Incorrect username or password.']);
    // Bilbo exists only in the legacy pool: SRP hides the password the migration would check.
    await app.createUser('bilbo@gmail.com', 'There-And-Back-1', {}, app.sandbox.endpoints.cognito.legacyUserPoolId);
    const migrations = app.invocations('user-migration');
    const unknown = await failure(signIn({ username: 'bilbo@gmail.com', password: 'There-And-Back-1' }));
    expect([unknown.name, unknown.message]).to.deep.equal(['NotAuthorizedException', 'Incorrect username or password.']);
    expect(app.invocations('user-migration'), 'no UserMigration on SRP').to.equal(migrations);
    // The documented way in for a user still to migrate: the password flow.
    const migrated = await signIn({ username: 'bilbo@gmail.com', password: 'There-And-Back-1', options: { authFlowType: 'USER_PASSWORD_AUTH' } });
    expect(migrated.isSignedIn).to.equal(true);
    expect(app.invocations('user-migration')).to.equal(migrations + 1);
  });

  it('locks a user out after too many wrong passwords by SRP, with the lockout’s message, and lets them in after the lock', async () => {
    await app.createUser('ted@gmail.com', PASSWORD);
    const { maxAttempts, lockSeconds } = lockout(app.sandbox);
    for (let i = 0; i < maxAttempts; i++) {
      const error = await failure(signIn({ username: 'ted@gmail.com', password: `Wrong-Password-${i}x` }));
      expect(error.name, `attempt ${i + 1}`).to.equal('NotAuthorizedException');
    }
    const locked = await failure(signIn({ username: 'ted@gmail.com', password: PASSWORD }));
    expect(locked.name).to.equal('UserLambdaValidationException');
    expect(locked.message).to.match(/^PreAuthentication failed with error .+\.$/);
    await new Promise((r) => setTimeout(r, lockSeconds * 1000 + 250));
    expect((await signIn({ username: 'ted@gmail.com', password: PASSWORD })).isSignedIn).to.equal(true);
  });

  it('updates attributes and verifies a changed email with the code sent to it', async () => {
    await app.createUser('daisy@gmail.com', PASSWORD, { name: 'Daisy Gamgee' });
    await signIn({ username: 'daisy@gmail.com', password: PASSWORD });
    const output = await updateUserAttributes({ userAttributes: { name: 'Daisy Baggins', email: 'daisy.baggins@gmail.com' } });
    expect(output.name?.isUpdated).to.equal(true);
    const code = await app.codeMailed('daisy.baggins@gmail.com');
    await confirmUserAttribute({ userAttributeKey: 'email', confirmationCode: code });
    const attributes = await fetchUserAttributes();
    expect(attributes).to.include({ name: 'Daisy Baggins', email: 'daisy.baggins@gmail.com', email_verified: 'true' });
  });

  it('signs in without a password (CUSTOM_WITHOUT_SRP): asks for a code, then answers with the one mailed through SES', async () => {
    await app.createUser('odo.proudfoot@gmail.com', PASSWORD, { name: 'Odo Proudfoot' });
    const sub = (await app.getUser('odo.proudfoot@gmail.com')).UserAttributes!.find((a) => a.Name === 'sub')!.Value!;
    const started = await signIn({ username: 'odo.proudfoot@gmail.com', options: { authFlowType: 'CUSTOM_WITHOUT_SRP' } });
    expect(started.nextStep).to.deep.include({ signInStep: 'CONFIRM_SIGN_IN_WITH_CUSTOM_CHALLENGE', additionalInfo: { step: 'method', USERNAME: started.nextStep.signInStep === 'CONFIRM_SIGN_IN_WITH_CUSTOM_CHALLENGE' ? started.nextStep.additionalInfo?.USERNAME : '' } });
    const asked = await confirmSignIn({ challengeResponse: 'code', options: { clientMetadata: { signInMethod: 'code' } } });
    expect(asked.nextStep.signInStep).to.equal('CONFIRM_SIGN_IN_WITH_CUSTOM_CHALLENGE');
    const mail = (await app.sandbox.stores.ses()).filter((m) => m.to === 'odo.proudfoot@gmail.com').at(-1)!;
    const code = /Sign-in code: (\d{6})/.exec(mail.text)![1]!;
    const done = await confirmSignIn({ challengeResponse: code });
    expect(done).to.deep.equal({ isSignedIn: true, nextStep: { signInStep: 'DONE' } });
    expect(claims((await fetchAuthSession()).tokens?.idToken?.toString()).sub).to.equal(sub);
  });

  it('changes the password, and resets a forgotten one with the mailed code', async () => {
    await app.createUser('hamfast@gmail.com', PASSWORD);
    await signIn({ username: 'hamfast@gmail.com', password: PASSWORD });
    await updatePassword({ oldPassword: PASSWORD, newPassword: 'Taters-And-Rabbit-1' });
    await signOut();
    expect((await signIn({ username: 'hamfast@gmail.com', password: 'Taters-And-Rabbit-1' })).isSignedIn).to.equal(true);
    await signOut();
    const reset = await resetPassword({ username: 'hamfast@gmail.com' });
    expect(reset.nextStep.resetPasswordStep).to.equal('CONFIRM_RESET_PASSWORD_WITH_CODE');
    const code = await app.codeMailed('hamfast@gmail.com');
    await confirmResetPassword({ username: 'hamfast@gmail.com', confirmationCode: code, newPassword: 'Old-Gaffer-Says-1' });
    expect((await signIn({ username: 'hamfast@gmail.com', password: 'Old-Gaffer-Says-1' })).isSignedIn).to.equal(true);
  });

  it('migrates a legacy user who resets a forgotten password (UserMigration_ForgotPassword)', async () => {
    await app.createUser('lobelia@gmail.com', 'Sackville-Bag-1', { name: 'Lobelia Sackville-Baggins' }, app.sandbox.endpoints.cognito.legacyUserPoolId);
    const reset = await resetPassword({ username: 'lobelia@gmail.com' });
    expect(reset.nextStep.resetPasswordStep).to.equal('CONFIRM_RESET_PASSWORD_WITH_CODE');
    const user = await app.getUser('lobelia@gmail.com');
    expect(user.UserStatus).to.equal('RESET_REQUIRED');
    expect(user.UserAttributes?.find((a) => a.Name === 'name')?.Value).to.equal('Lobelia Sackville-Baggins');
    const code = await app.codeMailed('lobelia@gmail.com');
    await confirmResetPassword({ username: 'lobelia@gmail.com', confirmationCode: code, newPassword: 'Spoons-Are-Mine-1' });
    expect((await signIn({ username: 'lobelia@gmail.com', password: 'Spoons-Are-Mine-1' })).isSignedIn).to.equal(true);
  });

  it('signs out by revoking the refresh token, and a global sign-out ends every session', async () => {
    await app.createUser('fatty@gmail.com', PASSWORD);
    await signIn({ username: 'fatty@gmail.com', password: PASSWORD });
    const first = (await fetchAuthSession()).tokens!.accessToken.toString();
    expect(claims(first)).to.have.property('origin_jti');
    const calls = app.sandbox.cognito.calls.length;
    await signOut();
    expect(app.sandbox.cognito.calls.slice(calls).map((c) => c.operation)).to.include('RevokeToken');
    const revoked = await failure(app.admin.send(new GetUserCommand({ AccessToken: first })));
    expect([revoked.name, revoked.message]).to.deep.equal(['NotAuthorizedException', 'Access Token has been revoked']);
    await signIn({ username: 'fatty@gmail.com', password: PASSWORD });
    const second = (await fetchAuthSession()).tokens!.accessToken.toString();
    await signOut({ global: true });
    expect(app.sandbox.cognito.calls.slice(calls).map((c) => c.operation)).to.include('GlobalSignOut');
    const ended = await failure(app.admin.send(new GetUserCommand({ AccessToken: second })));
    expect(ended.message).to.equal('Access Token has been revoked');
    await signIn({ username: 'fatty@gmail.com', password: PASSWORD });
    await deleteUser();
    const gone = await failure(app.getUser('fatty@gmail.com'));
    expect(gone.name).to.equal('UserNotFoundException');
  });
});
