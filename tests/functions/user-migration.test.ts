/**
 * User migration against a stubbed legacy Cognito pool: the response Cognito needs for each source, the
 * attribute filter, one indistinguishable refusal for every failure, the deadline on a hung legacy pool,
 * and a password that never reaches the logs.
 */
import {
  AdminGetUserCommand,
  AdminInitiateAuthCommand,
  CognitoIdentityProviderClient,
  NotAuthorizedException,
  UserNotFoundException,
  UserNotConfirmedException,
  PasswordResetRequiredException,
} from '@aws-sdk/client-cognito-identity-provider';
import type { UserMigrationTriggerEvent } from 'aws-lambda';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { expect } from 'chai';
import fc from 'fast-check';
import { UserFacingError } from '../../functions/common/errors.ts';
import { createDomainPolicy } from '../../functions/common/identity.ts';
import { cognitoLegacyDirectory, type LegacyDirectory } from '../../functions/user-migration/legacy-directory.ts';
import { emailVerified, migratableAttributes, migrateUser, REFUSAL_MESSAGE, STANDARD_ATTRIBUTES } from '../../functions/user-migration/logic.ts';
import { EMAIL, userMigrationEvent } from '../fixtures/events.ts';
import { captureLogs, quietLogger } from '../fixtures/logs.ts';
import { withEnvironment } from '../fixtures/env.ts';
import { awsJsonError, withAwsEndpoint } from '../fixtures/aws-endpoint.ts';

const POLICY = createDomainPolicy({ allowedDomains: ['gmail.com', 'icloud.com', 'outlook.com'], allowSubdomains: false });
const LEGACY = { userPoolId: 'eu-west-1_Legacy123', clientId: 'legacyclient0000000000000' };
const PASSWORD = 'Corr3ct-Horse-Battery';
const LEGACY_ATTRIBUTES = [
  { Name: 'sub', Value: '11111111-2222-4333-8444-555555555555' },
  { Name: 'email', Value: EMAIL },
  { Name: 'email_verified', Value: 'false' },
  { Name: 'name', Value: 'Frodo Baggins' },
  { Name: 'given_name', Value: 'Frodo' },
  { Name: 'phone_number', Value: '+447700900123' },
  { Name: 'phone_number_verified', Value: 'true' },
  { Name: 'custom:tier', Value: 'gold' },
  { Name: 'custom:legacy_id', Value: '42' },
  { Name: 'cognito:mfa_enabled', Value: 'true' },
  { Name: 'identities', Value: '[]' },
];

// Created per suite and restored after it: client mocks patch the class prototype for the whole process.
let cognito: AwsClientStub<CognitoIdentityProviderClient>;
const directory = () => cognitoLegacyDirectory(new CognitoIdentityProviderClient({ region: 'eu-west-1' }), LEGACY);

function legacyUserExists(attributes = LEGACY_ATTRIBUTES) {
  cognito.on(AdminInitiateAuthCommand).resolves({ AuthenticationResult: { AccessToken: 'legacy-access', IdToken: 'legacy-id', RefreshToken: 'legacy-refresh' } });
  cognito.on(AdminGetUserCommand).resolves({ Username: EMAIL, Enabled: true, UserStatus: 'CONFIRMED', UserAttributes: attributes });
}

/** The legacy attributes with some replaced (a value of undefined removes the attribute). */
function legacyWith(changes: Record<string, string | undefined>) {
  const kept = LEGACY_ATTRIBUTES.filter((a) => !(a.Name in changes));
  return [...kept, ...Object.entries(changes).flatMap(([Name, Value]) => (Value === undefined ? [] : [{ Name, Value }]))];
}

async function refusal(promise: Promise<unknown>): Promise<UserFacingError> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(UserFacingError);
    return error as UserFacingError;
  }
  throw new Error('expected the migration to be refused');
}

const sdkError = <T extends Error>(Type: new (o: { message: string; $metadata: object }) => T) => new Type({ message: 'legacy says no', $metadata: {} });

describe('user migration', () => {
  quietLogger();
  before(() => {
    cognito = mockClient(CognitoIdentityProviderClient);
  });
  after(() => cognito.restore());
  beforeEach(() => cognito.reset());

  describe('UserMigration_Authentication', () => {
    it('authenticates with ADMIN_USER_PASSWORD_AUTH and answers CONFIRMED, SUPPRESS, and the legacy email_verified unchanged', async () => {
      legacyUserExists();
      const result = await migrateUser(userMigrationEvent({ password: PASSWORD }), { directory: directory(), policy: POLICY });
      const auth = cognito.commandCalls(AdminInitiateAuthCommand)[0]!.args[0].input;
      expect(auth).to.deep.include({ UserPoolId: LEGACY.userPoolId, ClientId: LEGACY.clientId, AuthFlow: 'ADMIN_USER_PASSWORD_AUTH' });
      expect(auth.AuthParameters).to.deep.equal({ USERNAME: EMAIL, PASSWORD });
      expect(result.response.finalUserStatus).to.equal('CONFIRMED');
      expect(result.response.messageAction).to.equal('SUPPRESS');
      expect(result.response.userAttributes).to.deep.equal({
        email: EMAIL,
        email_verified: 'false',
        name: 'Frodo Baggins',
        given_name: 'Frodo',
        phone_number: '+447700900123',
        phone_number_verified: 'true',
      });
    });

    it('carries a verified legacy email over as verified, and an absent or unexpected flag as unverified', async () => {
      for (const [legacy, expected] of [['true', 'true'], ['false', 'false'], [undefined, 'false'], ['TRUE', 'false'], ['yes', 'false']] as const) {
        cognito.reset();
        legacyUserExists(legacyWith({ email_verified: legacy }));
        const result = await migrateUser(userMigrationEvent({ password: PASSWORD }), { directory: directory(), policy: POLICY });
        expect(result.response.userAttributes.email_verified, String(legacy)).to.equal(expected);
      }
    });

    it('copies only the custom attributes it is told to', async () => {
      legacyUserExists();
      const result = await migrateUser(userMigrationEvent(), { directory: directory(), policy: POLICY, customAttributes: ['custom:tier'] });
      expect(result.response.userAttributes['custom:tier']).to.equal('gold');
      expect(result.response.userAttributes).not.to.have.property('custom:legacy_id');
    });

    it('keeps the rest of the event as Cognito sent it', async () => {
      legacyUserExists();
      const event = userMigrationEvent();
      const result = await migrateUser(event, { directory: directory(), policy: POLICY });
      expect(result.userName).to.equal(event.userName);
      expect(result.userPoolId).to.equal(event.userPoolId);
      expect(result.triggerSource).to.equal('UserMigration_Authentication');
    });
  });

  describe('UserMigration_ForgotPassword', () => {
    it('looks the user up without a password and answers SUPPRESS with a verified email, leaving the status to Cognito', async () => {
      legacyUserExists();
      const result = await migrateUser(userMigrationEvent({ triggerSource: 'UserMigration_ForgotPassword' }), { directory: directory(), policy: POLICY });
      expect(cognito.commandCalls(AdminInitiateAuthCommand)).to.have.length(0);
      expect(cognito.commandCalls(AdminGetUserCommand)[0]!.args[0].input).to.deep.equal({ UserPoolId: LEGACY.userPoolId, Username: EMAIL });
      expect(result.response.userAttributes).to.include({ email: EMAIL, email_verified: 'true' });
      expect(result.response.messageAction).to.equal('SUPPRESS');
      expect(result.response).not.to.have.property('finalUserStatus');
    });

    it('marks the email verified even when the legacy directory never did: the reset code proves the mailbox', async () => {
      legacyUserExists(legacyWith({ email_verified: 'false' }));
      const result = await migrateUser(userMigrationEvent({ triggerSource: 'UserMigration_ForgotPassword' }), { directory: directory(), policy: POLICY });
      expect(result.response.userAttributes.email_verified).to.equal('true');
      expect(emailVerified('UserMigration_ForgotPassword', undefined)).to.equal('true');
    });
  });

  describe('the domain policy (pre sign-up never runs for migrated users)', () => {
    for (const triggerSource of ['UserMigration_Authentication', 'UserMigration_ForgotPassword'] as const) {
      for (const [label, email, reason] of [
        ['a domain not on the list', 'saruman@isengard.example', 'domain-not-allowed'],
        ['an allowed domain with a suffix', 'saruman@gmail.com.isengard.example', 'domain-not-allowed'],
        ['a look-alike domain', 'saruman@gmаil.com', 'bad-email'],
        ['two addresses', 'saruman@isengard.example,frodo@gmail.com', 'bad-email'],
      ] as const) {
        it(`${triggerSource}: refuses a legacy user at ${label} with the generic refusal, logging why`, async () => {
          legacyUserExists(legacyWith({ email }));
          const event = userMigrationEvent({ triggerSource, password: PASSWORD, userName: email });
          const { error, output: logs } = await captureLogs(() => migrateUser(event, { directory: directory(), policy: POLICY }));
          expect(error).to.be.instanceOf(UserFacingError).with.property('message', REFUSAL_MESSAGE);
          expect(logs).to.include(`"reason":"${reason}"`).and.not.include(email);
        });
      }
    }

    it('logs the refused domain, which is safe to log, for an address at the wrong domain', async () => {
      legacyUserExists(legacyWith({ email: 'saruman@isengard.example' }));
      const { output: logs } = await captureLogs(() => migrateUser(userMigrationEvent({ password: PASSWORD, userName: 'saruman@isengard.example' }), { directory: directory(), policy: POLICY }));
      expect(logs).to.include('"emailDomain":"isengard.example"');
    });

    it('refuses a typed login that only a Unicode case mapping would match to the account’s address', async () => {
      legacyUserExists(legacyWith({ email: 'kate@gmail.com' }));
      const error = await refusal(migrateUser(userMigrationEvent({ password: PASSWORD, userName: '\u212Aate@gmail.com' }), { directory: directory(), policy: POLICY }));
      expect(error.message).to.equal(REFUSAL_MESSAGE);
    });

    it('accepts an allowed address typed in another ASCII case', async () => {
      legacyUserExists(legacyWith({ email: 'kate@gmail.com' }));
      const result = await migrateUser(userMigrationEvent({ password: PASSWORD, userName: 'KATE@Gmail.com' }), { directory: directory(), policy: POLICY });
      expect(result.response.userAttributes.email).to.equal('kate@gmail.com');
    });
  });

  describe('one generic refusal for every failure', () => {
    const cases: [string, () => void, Partial<Parameters<typeof userMigrationEvent>[0]>?][] = [
      ['wrong password', () => cognito.on(AdminInitiateAuthCommand).rejects(sdkError(NotAuthorizedException))],
      ['unknown user', () => cognito.on(AdminInitiateAuthCommand).rejects(sdkError(UserNotFoundException))],
      ['unconfirmed legacy user', () => cognito.on(AdminInitiateAuthCommand).rejects(sdkError(UserNotConfirmedException))],
      ['legacy password reset required', () => cognito.on(AdminInitiateAuthCommand).rejects(sdkError(PasswordResetRequiredException))],
      ['NEW_PASSWORD_REQUIRED challenge', () => cognito.on(AdminInitiateAuthCommand).resolves({ ChallengeName: 'NEW_PASSWORD_REQUIRED', Session: 's' })],
      ['SOFTWARE_TOKEN_MFA challenge', () => cognito.on(AdminInitiateAuthCommand).resolves({ ChallengeName: 'SOFTWARE_TOKEN_MFA', Session: 's' })],
      ['legacy outage', () => cognito.on(AdminInitiateAuthCommand).rejects(Object.assign(new Error('socket hang up'), { name: 'InternalErrorException', $metadata: { httpStatusCode: 500 } }))],
      [
        'legacy user disabled',
        () => {
          legacyUserExists();
          cognito.on(AdminGetUserCommand).resolves({ Username: EMAIL, Enabled: false, UserAttributes: LEGACY_ATTRIBUTES });
        },
      ],
      [
        'legacy user without an email',
        () => {
          legacyUserExists();
          cognito.on(AdminGetUserCommand).resolves({ Username: EMAIL, Enabled: true, UserAttributes: [{ Name: 'name', Value: 'Frodo' }] });
        },
      ],
      [
        'typed address differs from the account email',
        () => legacyUserExists(),
        { userName: 'samwise@gmail.com' },
      ],
      ['unknown user asking for a reset', () => cognito.on(AdminGetUserCommand).rejects(sdkError(UserNotFoundException)), { triggerSource: 'UserMigration_ForgotPassword' }],
      ['legacy outage during a reset', () => cognito.on(AdminGetUserCommand).rejects(new Error('ECONNREFUSED')), { triggerSource: 'UserMigration_ForgotPassword' }],
      ['empty password', () => legacyUserExists(), { password: '' }],
      ['oversized username', () => legacyUserExists(), { userName: 'a'.repeat(200) }],
    ];
    const messages = new Set<string>();
    for (const [label, arrange, options] of cases) {
      it(`refuses: ${label}`, async () => {
        arrange();
        const error = await refusal(migrateUser(userMigrationEvent(options ?? {}), { directory: directory(), policy: POLICY }));
        expect(error.message).to.equal(REFUSAL_MESSAGE);
        expect(error.reason).to.equal('migration-refused');
        messages.add(`${error.name}|${error.reason}|${error.message}`);
      });
    }
    it('gives exactly the same error for all of them', () => {
      expect(messages.size).to.equal(1);
    });

    it('refuses an unexpected trigger source', async () => {
      const event = { ...userMigrationEvent(), triggerSource: 'UserMigration_Other' } as unknown as UserMigrationTriggerEvent;
      expect((await refusal(migrateUser(event, { directory: directory(), policy: POLICY }))).message).to.equal(REFUSAL_MESSAGE);
    });

    it('refuses within its deadline when the legacy pool hangs', async () => {
      const hanging: LegacyDirectory = {
        authenticate: (_u, _p, signal) => new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
        find: () => new Promise(() => undefined),
      };
      const started = performance.now();
      const error = await refusal(migrateUser(userMigrationEvent(), { directory: hanging, policy: POLICY, deadlineMs: 150 }));
      expect(error.message).to.equal(REFUSAL_MESSAGE);
      expect(performance.now() - started).to.be.below(2_000);
    });

    it('refuses within its deadline even when a custom directory ignores the abort signal', async () => {
      const deaf: LegacyDirectory = { authenticate: () => new Promise(() => undefined), find: () => new Promise(() => undefined) };
      const error = await refusal(migrateUser(userMigrationEvent({ triggerSource: 'UserMigration_ForgotPassword' }), { directory: deaf, policy: POLICY, deadlineMs: 100 }));
      expect(error.message).to.equal(REFUSAL_MESSAGE);
    });

    it('passes the abort signal to the SDK so a hung call is cancelled', async () => {
      legacyUserExists();
      await migrateUser(userMigrationEvent(), { directory: directory(), policy: POLICY });
      const options = (cognito.commandCalls(AdminInitiateAuthCommand)[0]!.args as unknown[])[1] as { abortSignal?: AbortSignal } | undefined;
      expect(options?.abortSignal).to.be.instanceOf(AbortSignal);
    });
  });

  describe('attribute filter', () => {
    it('never passes sub, cognito:*, identities, email_verified or unlisted custom attributes', () => {
      fc.assert(
        fc.property(fc.dictionary(fc.oneof(fc.constantFrom(...STANDARD_ATTRIBUTES, 'sub', 'identities', 'email_verified', 'cognito:username', 'custom:a'), fc.string()), fc.string()), (attributes) => {
          const out = migratableAttributes(attributes);
          return Object.keys(out).every((name) => STANDARD_ATTRIBUTES.has(name));
        }),
      );
    });
  });

  describe('handler', () => {
    withEnvironment({ LEGACY_USER_POOL_ID: LEGACY.userPoolId, LEGACY_CLIENT_ID: LEGACY.clientId, ALLOWED_EMAIL_DOMAINS: 'gmail.com', ALLOW_SUBDOMAINS: 'false', AWS_REGION: 'eu-west-1' });
    // The handler's legacy client is the synchronous triggers' own (functions/common/aws-clients.ts): a loopback endpoint answers it.
    const aws = withAwsEndpoint();

    it('reaches the configured legacy pool: migrates a user whose password it accepts, and refuses a wrong one with the one generic message', async () => {
      const { handler } = await import('../../functions/user-migration/index.ts');
      aws.on('AdminInitiateAuth', () => ({ AuthenticationResult: { AccessToken: 'legacy-access', IdToken: 'legacy-id', RefreshToken: 'legacy-refresh' } }));
      aws.on('AdminGetUser', () => ({ Username: EMAIL, Enabled: true, UserStatus: 'CONFIRMED', UserAttributes: LEGACY_ATTRIBUTES }));
      const migrated = await handler(userMigrationEvent({ password: PASSWORD }));
      expect(migrated.response.finalUserStatus).to.equal('CONFIRMED');
      expect(migrated.response.userAttributes).to.include({ email: EMAIL, name: 'Frodo Baggins' });
      expect(aws.inputs('AdminInitiateAuth')[0]).to.deep.include({ UserPoolId: LEGACY.userPoolId, ClientId: LEGACY.clientId, AuthFlow: 'ADMIN_USER_PASSWORD_AUTH' });

      aws.on('AdminInitiateAuth', () => awsJsonError('NotAuthorizedException', 400, 'Incorrect username or password.'));
      const refused = await handler(userMigrationEvent({ password: 'wrong-password' })).catch((e: unknown) => e);
      expect(refused).to.be.instanceOf(UserFacingError).and.include({ message: REFUSAL_MESSAGE });
    });
  });

  describe('logs', () => {
    it('never contain the password, on success or on any refusal', async () => {
      legacyUserExists();
      const ok = await captureLogs(() => migrateUser(userMigrationEvent({ password: PASSWORD }), { directory: directory(), policy: POLICY }));
      cognito.reset();
      cognito.on(AdminInitiateAuthCommand).rejects(sdkError(NotAuthorizedException));
      const wrong = await captureLogs(() => migrateUser(userMigrationEvent({ password: PASSWORD }), { directory: directory(), policy: POLICY }));
      cognito.reset();
      cognito.on(AdminInitiateAuthCommand).rejects(new Error(`boom ${PASSWORD}`));
      const outage = await captureLogs(() => migrateUser(userMigrationEvent({ password: PASSWORD }), { directory: directory(), policy: POLICY }));
      expect(ok.error).to.equal(undefined);
      expect(wrong.error).to.be.instanceOf(UserFacingError);
      expect(outage.error).to.be.instanceOf(UserFacingError);
      const logs = ok.output + wrong.output + outage.output;
      expect(logs).to.include('User migrated');
      expect(logs).to.include('not-authorized');
      for (const secret of [PASSWORD, EMAIL, 'legacy-access', 'legacy-refresh']) expect(logs).not.to.include(secret);
    });
  });
});
