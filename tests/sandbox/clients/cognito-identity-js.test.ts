/**
 * amazon-cognito-identity-js, as an app uses it against the sandbox (a CognitoUserPool with the
 * sandbox's `endpoint`, every other setting its default): sign-up, SRP sign-in, session refresh,
 * attributes, passwords, migration of legacy users, sign-out, and an OIDC-style check of its tokens
 * against the pool's discovery document, in Node.
 */
import { createPublicKey, createVerify } from 'node:crypto';
import { expect } from 'chai';
import {
  AuthenticationDetails,
  CognitoUser,
  CognitoUserAttribute,
  CognitoUserPool,
  type CognitoUserSession,
  type ISignUpResult,
} from 'amazon-cognito-identity-js';
import { GetUserCommand } from '@aws-sdk/client-cognito-identity-provider';
import { rejection } from '../../fixtures/promises.ts';
import { claims } from '../../fixtures/sandbox.ts';
import { lockout, startClientSandbox, type ClientSandbox } from './app.ts';

const PASSWORD = 'Second-Breakfast-42';
const failure = (promise: Promise<unknown>) => rejection<{ code?: string; name: string; message: string }>(promise);

/** A node-style callback call as a promise. */
const call = <T>(run: (callback: (error: Error | null | undefined, result?: T) => void) => void) =>
  new Promise<T>((resolve, reject) => run((error, result) => (error ? reject(error) : resolve(result as T))));

describe('sandbox with amazon-cognito-identity-js defaults', function () {
  this.timeout(60_000);
  let app: ClientSandbox;
  let pool: CognitoUserPool;

  const userFor = (email: string) => new CognitoUser({ Username: email, Pool: pool });
  const authenticate = (user: CognitoUser, password: string) =>
    new Promise<CognitoUserSession>((resolve, reject) => user.authenticateUser(new AuthenticationDetails({ Username: user.getUsername(), Password: password }), { onSuccess: resolve, onFailure: reject }));

  before(async function () {
    this.timeout(120_000);
    app = await startClientSandbox();
    pool = new CognitoUserPool({ UserPoolId: app.userPoolId, ClientId: app.clientId, endpoint: app.endpoint });
  });

  after(async () => {
    await app?.stop();
  });

  it('signs up, resends the code, confirms, and signs in by SRP with a session whose tokens the triggers shaped', async () => {
    const attributes = [new CognitoUserAttribute({ Name: 'email', Value: 'elanor@gmail.com' }), new CognitoUserAttribute({ Name: 'name', Value: 'Elanor Gamgee' })];
    const signedUp = await call<ISignUpResult>((cb) => pool.signUp('elanor@gmail.com', PASSWORD, attributes, [], cb));
    expect(signedUp.userConfirmed).to.equal(false);
    await app.codeMailed('elanor@gmail.com');
    const user = userFor('elanor@gmail.com');
    const resent = await call<{ CodeDeliveryDetails: { DeliveryMedium: string } }>((cb) => user.resendConfirmationCode(cb));
    expect(resent.CodeDeliveryDetails.DeliveryMedium).to.equal('EMAIL');
    const code = await app.codeMailed('elanor@gmail.com', 1);
    await call((cb) => user.confirmRegistration(code, true, cb));
    const session = await authenticate(user, PASSWORD);
    expect(session.isValid()).to.equal(true);
    // The library adopts USER_ID_FOR_SRP as the user's name: the pool's internal username.
    expect(user.getUsername()).to.equal((await app.getUser('elanor@gmail.com')).Username);
    const id = claims(session.getIdToken().getJwtToken());
    expect(id).to.include({ sub: signedUp.userSub, name: 'Elanor Gamgee' });
    expect(id).to.not.have.property('email');
    const attrs = await call<CognitoUserAttribute[]>((cb) => user.getUserAttributes(cb));
    expect(Object.fromEntries(attrs.map((a) => [a.getName(), a.getValue()]))).to.include({ email: 'elanor@gmail.com', email_verified: 'true' });
  });

  it('refreshes the session with the refresh token, and sees a refreshed sign-in as the same one', async () => {
    await app.createUser('goldilocks@gmail.com', PASSWORD);
    const user = userFor('goldilocks@gmail.com');
    const session = await authenticate(user, PASSWORD);
    const refreshed = await call<CognitoUserSession>((cb) => user.refreshSession(session.getRefreshToken(), cb));
    const before = claims(session.getAccessToken().getJwtToken());
    const after = claims(refreshed.getAccessToken().getJwtToken());
    expect(after.jti).to.not.equal(before.jti);
    expect(after.origin_jti).to.equal(before.origin_jti);
    expect(after.auth_time).to.equal(before.auth_time);
    expect(claims(refreshed.getIdToken().getJwtToken())).to.not.have.property('email');
  });

  it('publishes a discovery document whose issuer and keys verify the tokens it issued', async () => {
    const session = await authenticate(userFor('goldilocks@gmail.com'), PASSWORD);
    const token = session.getIdToken().getJwtToken();
    const config = (await (await fetch(`${app.endpoint}/${app.userPoolId}/.well-known/openid-configuration`)).json()) as { issuer: string; jwks_uri: string };
    expect(config.issuer).to.equal(claims(token).iss);
    expect(config.issuer).to.equal(`${app.endpoint}/${app.userPoolId}`);
    const { keys } = (await (await fetch(config.jwks_uri)).json()) as { keys: Array<Record<string, string>> };
    const [header, payload, signature] = token.split('.');
    const kid = (JSON.parse(Buffer.from(header!, 'base64url').toString()) as { kid: string }).kid;
    const jwk = keys.find((k) => k.kid === kid);
    expect(jwk, 'the signing key is published').to.not.equal(undefined);
    expect(createVerify('RSA-SHA256').update(`${header}.${payload}`).verify(createPublicKey({ key: jwk!, format: 'jwk' }), Buffer.from(signature!, 'base64url'))).to.equal(true);
    const unknown = await fetch(`${app.endpoint}/us-east-1_Unknown/.well-known/openid-configuration`);
    expect(unknown.status).to.equal(404);
  });

  it('refuses a wrong password with the password flow’s error, on SRP and on USER_PASSWORD_AUTH, and locks out after too many', async () => {
    await app.createUser('sancho@gmail.com', PASSWORD);
    const { maxAttempts } = lockout(app.sandbox);
    for (let i = 0; i < maxAttempts; i++) {
      const user = userFor('sancho@gmail.com');
      if (i % 2) user.setAuthenticationFlowType('USER_PASSWORD_AUTH');
      const error = await failure(authenticate(user, `Wrong-Password-${i}x`));
      expect([error.code, error.message], `attempt ${i + 1}`).to.deep.equal(['NotAuthorizedException', 'Incorrect username or password.']);
    }
    const locked = await failure(authenticate(userFor('sancho@gmail.com'), PASSWORD));
    expect(locked.code).to.equal('UserLambdaValidationException');
    expect(locked.message).to.match(/^PreAuthentication failed with error .+\.$/);
  });

  it('updates and verifies attributes, changes the password, and resets a forgotten one', async () => {
    await app.createUser('farmer.maggot@gmail.com', PASSWORD, { name: 'Maggot' });
    const user = userFor('farmer.maggot@gmail.com');
    await authenticate(user, PASSWORD);
    await call((cb) => user.updateAttributes([new CognitoUserAttribute({ Name: 'name', Value: 'Farmer Maggot' })], cb));
    await call((cb) => user.getAttributeVerificationCode('email', { onSuccess: () => cb(null, 'sent'), onFailure: (e) => cb(e), inputVerificationCode: () => cb(null, 'sent') }));
    const code = await app.codeMailed('farmer.maggot@gmail.com');
    await call((cb) => user.verifyAttribute('email', code, { onSuccess: (r) => cb(null, r), onFailure: (e) => cb(e) }));
    const attrs = Object.fromEntries((await call<CognitoUserAttribute[]>((cb) => user.getUserAttributes(cb))).map((a) => [a.getName(), a.getValue()]));
    expect(attrs).to.include({ name: 'Farmer Maggot', email_verified: 'true' });
    await call((cb) => user.changePassword(PASSWORD, 'Mushrooms-Are-Mine-1', cb));
    await authenticate(userFor('farmer.maggot@gmail.com'), 'Mushrooms-Are-Mine-1');
    const resetting = userFor('farmer.maggot@gmail.com');
    const mails = app.mailsTo('farmer.maggot@gmail.com');
    await new Promise<void>((resolve, reject) => resetting.forgotPassword({ onSuccess: () => resolve(), onFailure: reject, inputVerificationCode: () => resolve() }));
    const resetCode = await app.codeMailed('farmer.maggot@gmail.com', mails);
    await new Promise<void>((resolve, reject) => resetting.confirmPassword(resetCode, 'Dogs-Grip-Fang-Wolf-1', { onSuccess: () => resolve(), onFailure: reject }));
    expect((await authenticate(userFor('farmer.maggot@gmail.com'), 'Dogs-Grip-Fang-Wolf-1')).isValid()).to.equal(true);
  });

  it('migrates legacy users on USER_PASSWORD_AUTH and on a password reset, never on SRP', async () => {
    const legacy = app.sandbox.endpoints.cognito.legacyUserPoolId;
    await app.createUser('hob.hayward@gmail.com', 'Hay-Ward-Fence-1', {}, legacy);
    const migrations = app.invocations('user-migration');
    const srp = await failure(authenticate(userFor('hob.hayward@gmail.com'), 'Hay-Ward-Fence-1'));
    expect([srp.code, srp.message]).to.deep.equal(['NotAuthorizedException', 'Incorrect username or password.']);
    expect(app.invocations('user-migration'), 'no UserMigration on SRP').to.equal(migrations);
    const byPassword = userFor('hob.hayward@gmail.com');
    byPassword.setAuthenticationFlowType('USER_PASSWORD_AUTH');
    expect((await authenticate(byPassword, 'Hay-Ward-Fence-1')).isValid()).to.equal(true);
    expect(app.invocations('user-migration')).to.equal(migrations + 1);
    expect((await app.getUser('hob.hayward@gmail.com')).UserStatus).to.equal('CONFIRMED');

    await app.createUser('odo.proudfoot@gmail.com', 'Proud-Feet-Odo-1', {}, legacy);
    const resetting = userFor('odo.proudfoot@gmail.com');
    await new Promise<void>((resolve, reject) => resetting.forgotPassword({ onSuccess: () => resolve(), onFailure: reject, inputVerificationCode: () => resolve() }));
    expect((await app.getUser('odo.proudfoot@gmail.com')).UserStatus, 'migrated by UserMigration_ForgotPassword').to.equal('RESET_REQUIRED');
    const code = await app.codeMailed('odo.proudfoot@gmail.com');
    await new Promise<void>((resolve, reject) => resetting.confirmPassword(code, 'Proud-Feet-Odo-2', { onSuccess: () => resolve(), onFailure: reject }));
    expect((await authenticate(userFor('odo.proudfoot@gmail.com'), 'Proud-Feet-Odo-2')).isValid(), 'then signs in by SRP').to.equal(true);
  });

  it('signs out by revoking the refresh token, signs out globally, and deletes the user', async () => {
    await app.createUser('will.whitfoot@gmail.com', PASSWORD);
    const user = userFor('will.whitfoot@gmail.com');
    const session = await authenticate(user, PASSWORD);
    await new Promise<void>((resolve, reject) => user.signOut((error?: Error) => (error ? reject(error) : resolve())));
    const revoked = await failure(app.admin.send(new GetUserCommand({ AccessToken: session.getAccessToken().getJwtToken() })));
    expect(revoked.message).to.equal('Access Token has been revoked');
    const refresh = await failure(call((cb) => user.refreshSession(session.getRefreshToken(), cb)));
    expect(refresh.code).to.equal('NotAuthorizedException');
    const again = userFor('will.whitfoot@gmail.com');
    const second = await authenticate(again, PASSWORD);
    await new Promise<void>((resolve, reject) => again.globalSignOut({ onSuccess: () => resolve(), onFailure: reject }));
    expect((await failure(app.admin.send(new GetUserCommand({ AccessToken: second.getAccessToken().getJwtToken() })))).message).to.equal('Access Token has been revoked');
    const last = userFor('will.whitfoot@gmail.com');
    await authenticate(last, PASSWORD);
    await call((cb) => last.deleteUser(cb));
    expect((await failure(app.getUser('will.whitfoot@gmail.com'))).name).to.equal('UserNotFoundException');
  });
});
