/**
 * Cognito and workflow events for the reliability suite, shaped exactly as Cognito sends them
 * (each `satisfies` its @types/aws-lambda type). Every factory takes the values a scenario varies.
 */
import type {
  Context,
  CustomEmailSenderSignUpTriggerEvent,
  CustomMessageSignUpTriggerEvent,
  CustomSMSSenderSignUpTriggerEvent,
  DynamoDBStreamEvent,
  PostAuthenticationTriggerEvent,
  PostConfirmationConfirmSignUpTriggerEvent,
  PreAuthenticationTriggerEvent,
  PreSignUpEmailTriggerEvent,
  PreTokenGenerationTriggerEvent,
  UserMigrationAuthenticationTriggerEvent,
} from 'aws-lambda';
import { createDomainPolicy } from '../../../functions/common/identity.ts';
import { loadConfig } from '../../../infra/config.ts';
import { lambdaContext as fixtureContext } from '../../fixtures/events.ts';

export const POOL_ID = 'us-east-1_Reliab1ty';
export const OTHER_POOL_ID = 'us-east-1_OtherPool';
export const CLIENT_ID = 'reliabilityclientid0000000';
/** The default configuration's domain rule, as the functions build it from their environment. */
const SIGN_UP = loadConfig({ env: {} }).signUp;
export const POLICY = createDomainPolicy({ allowedDomains: SIGN_UP.allowedEmailDomains, allowSubdomains: SIGN_UP.allowSubdomains });

const common = (userName: string) => ({
  version: '1',
  region: 'us-east-1',
  userPoolId: POOL_ID,
  userName,
  callerContext: { awsSdkVersion: 'aws-sdk-unknown-unknown', clientId: CLIENT_ID },
});

/** The batch the table stream's event source mapping delivers after post-confirmation saved `p`'s profile. */
export const profileInserted = (p: Person, sequenceNumber = '100000000000000000001') =>
  ({
    Records: [
      {
        eventID: `insert-${sequenceNumber}`,
        eventName: 'INSERT',
        eventVersion: '1.1',
        eventSource: 'aws:dynamodb',
        awsRegion: 'us-east-1',
        eventSourceARN: 'arn:aws:dynamodb:us-east-1:123456789012:table/reliability-table/stream/1970-01-01T00:00:00.000',
        dynamodb: {
          ApproximateCreationDateTime: 1_746_515_289,
          Keys: { pk: { S: `USER#${p.sub}` }, sk: { S: 'PROFILE' } },
          NewImage: {
            pk: { S: `USER#${p.sub}` },
            sk: { S: 'PROFILE' },
            sub: { S: p.sub },
            userPoolId: { S: POOL_ID },
            email: { S: p.email },
            ...(p.name ? { name: { S: p.name } } : {}),
            welcomeEmail: { S: 'PENDING' },
          },
          SequenceNumber: sequenceNumber,
          SizeBytes: 200,
          StreamViewType: 'NEW_IMAGE',
        },
      },
    ],
  }) satisfies DynamoDBStreamEvent;

/** A person in a scenario. */
export interface Person {
  /** Cognito's username (a UUID when email is an alias). */
  sub: string;
  email: string;
  name?: string;
  phone?: string;
}

export const preSignUp = (p: Person) =>
  ({
    ...common(p.sub),
    triggerSource: 'PreSignUp_SignUp',
    request: { userAttributes: { email: p.email, ...(p.name ? { name: p.name } : {}) }, validationData: {} },
    response: { autoConfirmUser: false, autoVerifyEmail: false, autoVerifyPhone: false },
  }) satisfies PreSignUpEmailTriggerEvent;

export const customMessage = (p: Person) =>
  ({
    ...common(p.sub),
    triggerSource: 'CustomMessage_SignUp',
    request: {
      userAttributes: { sub: p.sub, email: p.email, ...(p.name ? { name: p.name } : {}) },
      codeParameter: '{####}',
      linkParameter: '{##Click Here##}',
      usernameParameter: null,
    },
    response: { smsMessage: null, emailMessage: null, emailSubject: null },
  }) satisfies CustomMessageSignUpTriggerEvent;

export const postConfirmation = (p: Person) =>
  ({
    ...common(p.sub),
    triggerSource: 'PostConfirmation_ConfirmSignUp',
    request: {
      userAttributes: {
        sub: p.sub,
        email: p.email,
        email_verified: 'true',
        'cognito:user_status': 'CONFIRMED',
        ...(p.name ? { name: p.name } : {}),
      },
    },
    response: {},
  }) satisfies PostConfirmationConfirmSignUpTriggerEvent;

export const preAuthentication = (p: Person, userNotFound = false) =>
  ({
    ...common(p.sub),
    triggerSource: 'PreAuthentication_Authentication',
    request: {
      userAttributes: (userNotFound ? {} : { sub: p.sub, email: p.email, email_verified: 'true', 'cognito:user_status': 'CONFIRMED' }) as Record<string, string>,
      ...(userNotFound ? { userNotFound: true } : {}),
      validationData: {},
    },
    response: {},
  }) satisfies PreAuthenticationTriggerEvent;

export const postAuthentication = (p: Person) =>
  ({
    ...common(p.sub),
    triggerSource: 'PostAuthentication_Authentication',
    request: {
      userAttributes: { sub: p.sub, email: p.email, email_verified: 'true', 'cognito:user_status': 'CONFIRMED' },
      newDeviceUsed: false,
    },
    response: {},
  }) satisfies PostAuthenticationTriggerEvent;

export const preTokenGeneration = (p: Person) =>
  ({
    ...common(p.sub),
    triggerSource: 'TokenGeneration_Authentication',
    request: {
      userAttributes: { sub: p.sub, email: p.email, email_verified: 'true' },
      groupConfiguration: { groupsToOverride: [], iamRolesToOverride: [] },
    },
    response: { claimsOverrideDetails: {} },
  }) satisfies PreTokenGenerationTriggerEvent;

export const userMigration = (p: Person, password: string) =>
  ({
    ...common(p.email),
    triggerSource: 'UserMigration_Authentication',
    request: { password, validationData: {} },
    response: { userAttributes: {}, desiredDeliveryMediums: ['EMAIL'] },
  }) satisfies UserMigrationAuthenticationTriggerEvent;

export const customEmailSender = (p: Person, encryptedCode: string, poolId = POOL_ID) =>
  ({
    ...common(p.sub),
    userPoolId: poolId,
    triggerSource: 'CustomEmailSender_SignUp',
    request: {
      type: 'customEmailSenderRequestV1',
      code: encryptedCode,
      userAttributes: { sub: p.sub, email: p.email, ...(p.name ? { name: p.name } : {}) },
    },
    response: {},
  }) satisfies CustomEmailSenderSignUpTriggerEvent;

export const customSmsSender = (p: Person, encryptedCode: string, poolId = POOL_ID) =>
  ({
    ...common(p.sub),
    userPoolId: poolId,
    triggerSource: 'CustomSMSSender_SignUp',
    request: {
      type: 'customSMSSenderRequestV1',
      code: encryptedCode,
      userAttributes: { sub: p.sub, phone_number: p.phone ?? '+15555550100', ...(p.name ? { name: p.name } : {}) },
    },
    response: {},
  }) satisfies CustomSMSSenderSignUpTriggerEvent;

/** The workflow task input the state machine passes to send-reminder and delete-unconfirmed-user. */
export const workflowTask = (p: Person) => ({ userPoolId: POOL_ID, username: p.sub });

/** A unique person for a scenario; `tag` keeps recipients apart in the process-wide SES store. */
export function person(tag: string, domain = 'gmail.com'): Person {
  const id = crypto.randomUUID();
  return { sub: id, email: `${tag}-${id.slice(0, 8)}@${domain}`, name: `Frodo ${tag}` };
}

/**
 * A Lambda context as the runtime passes it: the unit tests' fixture, with its own request id and a
 * clock that runs down from `remainingMs`, as the scenarios here time out for real.
 */
export function lambdaContext(functionName: string, remainingMs = 5_000, awsRequestId: string = crypto.randomUUID()): Context {
  const deadline = Date.now() + remainingMs;
  return {
    ...fixtureContext(functionName),
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    awsRequestId,
    logStreamName: 'reliability',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  } satisfies Context;
}
