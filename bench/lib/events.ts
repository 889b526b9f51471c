/**
 * One representative, successful event per function: the common path a user's request takes
 * (a sign-up on an allowed domain, a normal sign-in, a code email), shaped exactly as Cognito or the
 * reminder workflow sends it. The warm benchmark replays each 1,000 times.
 */
import type {
  CreateAuthChallengeTriggerEvent,
  CustomEmailSenderSignUpTriggerEvent,
  CustomMessageSignUpTriggerEvent,
  CustomSMSSenderSignUpTriggerEvent,
  DefineAuthChallengeTriggerEvent,
  DynamoDBStreamEvent,
  PostAuthenticationTriggerEvent,
  PostConfirmationConfirmSignUpTriggerEvent,
  PreAuthenticationTriggerEvent,
  PreSignUpEmailTriggerEvent,
  PreTokenGenerationAuthenticationTriggerEvent,
  UserMigrationAuthenticationTriggerEvent,
  VerifyAuthChallengeResponseTriggerEvent,
} from 'aws-lambda';
import type { FunctionName } from '../../functions/catalog.ts';
import { privateParameters, secretHash } from '../../functions/common/passwordless.ts';
import { BENCH_REGION } from './env.ts';

/** The pool every benchmark event comes from; Cognito also binds sender codes to it. */
export const USER_POOL_ID = `${BENCH_REGION}_BenchPool`;
const SUB = '0b8f0a5e-0000-4000-8000-000000000001';
const base = {
  version: '1',
  region: BENCH_REGION,
  userPoolId: USER_POOL_ID,
  userName: SUB,
  callerContext: { awsSdkVersion: 'aws-sdk-unknown-unknown', clientId: 'benchclientid000000000000' },
};
/** The method round is answered and a code asked for: the step that sends. */
const methodChosen = [{ challengeName: 'CUSTOM_CHALLENGE' as const, challengeResult: false, challengeMetadata: 'METHOD' }];
const CHALLENGE_ID = '0123456789abcdef0123456789abcdef';
const attributes = {
  sub: SUB,
  email: 'frodo@gmail.com',
  email_verified: 'true',
  name: 'Frodo Baggins',
  given_name: 'Frodo',
  'cognito:user_status': 'CONFIRMED',
};

/** The sender events carry a code encrypted by KMS through the AWS Encryption SDK; the caller supplies it. */
export interface EventInputs {
  readonly encryptedCode: string;
}

/** The benchmark event for `name`. */
export function benchEvent(name: FunctionName, inputs: EventInputs): unknown {
  switch (name) {
    case 'pre-sign-up':
      return {
        ...base,
        triggerSource: 'PreSignUp_SignUp',
        request: { userAttributes: { email: 'frodo@gmail.com', name: 'Frodo Baggins' } },
        response: { autoConfirmUser: false, autoVerifyEmail: false, autoVerifyPhone: false },
      } satisfies PreSignUpEmailTriggerEvent;
    case 'custom-message':
      return {
        ...base,
        triggerSource: 'CustomMessage_SignUp',
        request: { userAttributes: attributes, codeParameter: '{####}', linkParameter: '{##Click Here##}', usernameParameter: null },
        response: { smsMessage: null, emailMessage: null, emailSubject: null },
      } satisfies CustomMessageSignUpTriggerEvent;
    case 'post-confirmation':
      return {
        ...base,
        triggerSource: 'PostConfirmation_ConfirmSignUp',
        request: { userAttributes: attributes },
        response: {},
      } satisfies PostConfirmationConfirmSignUpTriggerEvent;
    case 'pre-authentication':
      return {
        ...base,
        triggerSource: 'PreAuthentication_Authentication',
        request: { userAttributes: attributes, validationData: {} },
        response: {},
      } satisfies PreAuthenticationTriggerEvent;
    case 'post-authentication':
      return {
        ...base,
        triggerSource: 'PostAuthentication_Authentication',
        request: { userAttributes: attributes, newDeviceUsed: false },
        response: {},
      } satisfies PostAuthenticationTriggerEvent;
    case 'pre-token-generation':
      return {
        ...base,
        triggerSource: 'TokenGeneration_Authentication',
        request: { userAttributes: attributes, groupConfiguration: { groupsToOverride: [], iamRolesToOverride: [] } },
        response: { claimsOverrideDetails: {} },
      } satisfies PreTokenGenerationAuthenticationTriggerEvent;
    case 'user-migration':
      return {
        ...base,
        // The stub's legacy pool holds this address, so the migration succeeds (the common path).
        userName: 'frodo@gmail.com',
        triggerSource: 'UserMigration_Authentication',
        request: { password: 'correct horse battery staple' },
        response: { userAttributes: {}, desiredDeliveryMediums: ['EMAIL'] },
      } satisfies UserMigrationAuthenticationTriggerEvent;
    case 'define-auth-challenge':
      return {
        ...base,
        triggerSource: 'DefineAuthChallenge_Authentication',
        request: { userAttributes: attributes, session: methodChosen, clientMetadata: { signInMethod: 'code' } },
        response: { issueTokens: false, failAuthentication: false },
      } satisfies DefineAuthChallengeTriggerEvent;
    case 'create-auth-challenge':
      // The stub accepts every conditional write, so each replay passes the throttle and sends.
      return {
        ...base,
        triggerSource: 'CreateAuthChallenge_Authentication',
        request: { userAttributes: attributes, challengeName: 'CUSTOM_CHALLENGE', session: methodChosen, clientMetadata: { signInMethod: 'code' } },
        response: { publicChallengeParameters: {}, privateChallengeParameters: {}, challengeMetadata: '' },
      } satisfies CreateAuthChallengeTriggerEvent;
    case 'verify-auth-challenge-response':
      // The right code, consumed by a conditional write the stub accepts: the path of a successful sign-in.
      return {
        ...base,
        triggerSource: 'VerifyAuthChallengeResponse_Authentication',
        request: {
          userAttributes: attributes,
          privateChallengeParameters: privateParameters({ step: 'code', challengeId: CHALLENGE_ID, hash: secretHash(CHALLENGE_ID, 'code', '042917'), validUntil: Date.UTC(2100, 0, 1) }),
          challengeAnswer: '042917',
        },
        response: { answerCorrect: false },
      } satisfies VerifyAuthChallengeResponseTriggerEvent;
    case 'custom-email-sender':
      return {
        ...base,
        triggerSource: 'CustomEmailSender_SignUp',
        request: { type: 'customEmailSenderRequestV1', code: inputs.encryptedCode, userAttributes: attributes },
        response: {},
      } satisfies CustomEmailSenderSignUpTriggerEvent;
    case 'custom-sms-sender':
      return {
        ...base,
        triggerSource: 'CustomSMSSender_SignUp',
        request: {
          type: 'customSMSSenderRequestV1',
          code: inputs.encryptedCode,
          userAttributes: { ...attributes, phone_number: '+15005550006', phone_number_verified: 'false' },
        },
        response: {},
      } satisfies CustomSMSSenderSignUpTriggerEvent;
    case 'send-reminder':
    case 'delete-unconfirmed-user':
      return { userPoolId: USER_POOL_ID, username: SUB };
    case 'send-welcome-email':
      // One new PENDING profile, as the table's stream delivers it through the event source mapping.
      return {
        Records: [
          {
            eventID: '4b0e6fd3a1c0e0a8e2a7a6c1f2b3c4d5',
            eventName: 'INSERT',
            eventVersion: '1.1',
            eventSource: 'aws:dynamodb',
            awsRegion: BENCH_REGION,
            eventSourceARN: `arn:aws:dynamodb:${BENCH_REGION}:123456789012:table/bench-table/stream/2025-01-01T00:00:00.000`,
            dynamodb: {
              ApproximateCreationDateTime: 1_735_689_600,
              Keys: { pk: { S: `USER#${SUB}` }, sk: { S: 'PROFILE' } },
              NewImage: {
                pk: { S: `USER#${SUB}` },
                sk: { S: 'PROFILE' },
                sub: { S: SUB },
                userPoolId: { S: USER_POOL_ID },
                email: { S: 'frodo@gmail.com' },
                name: { S: 'Frodo Baggins' },
                welcomeEmail: { S: 'PENDING' },
                createdAt: { S: '2025-01-01T00:00:00.000Z' },
                confirmedAt: { S: '2025-01-01T00:00:00.000Z' },
              },
              SequenceNumber: '100000000000000000001',
              SizeBytes: 312,
              StreamViewType: 'NEW_IMAGE',
            },
          },
        ],
      } satisfies DynamoDBStreamEvent;
    case 'notify-lockout':
      // The write that locked an existing login, as the table's stream delivers it through the mapping.
      return {
        Records: [
          {
            eventID: '5c1f7ae4b2d1f1b9f3b8b7d2a3c4d5e6',
            eventName: 'MODIFY',
            eventVersion: '1.1',
            eventSource: 'aws:dynamodb',
            awsRegion: BENCH_REGION,
            eventSourceARN: `arn:aws:dynamodb:${BENCH_REGION}:123456789012:table/bench-table/stream/2025-01-01T00:00:00.000`,
            dynamodb: {
              ApproximateCreationDateTime: 1_735_689_600,
              Keys: { pk: { S: 'LOCKOUT#frodo@gmail.com' }, sk: { S: 'STATE' } },
              NewImage: {
                pk: { S: 'LOCKOUT#frodo@gmail.com' },
                sk: { S: 'STATE' },
                lockedBy: { S: 'bench-attempt-0000000001' },
                lockedAt: { N: '1735689600000' },
                lockedUntil: { N: '1735689900000' },
                lockOwner: { S: SUB },
                lockPool: { S: USER_POOL_ID },
              },
              SequenceNumber: '100000000000000000002',
              SizeBytes: 220,
              StreamViewType: 'NEW_IMAGE',
            },
          },
        ],
      } satisfies DynamoDBStreamEvent;
  }
}
