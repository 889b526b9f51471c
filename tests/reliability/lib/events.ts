/**
 * Cognito and workflow events for the reliability suite: the shared builders of tests/fixtures/events.ts
 * for this suite's pool, taking the values a scenario varies (a person, a code, a password).
 */
import type { Context, DynamoDBStreamEvent, UserMigrationTriggerEvent } from 'aws-lambda';
import { createDomainPolicy } from '../../../functions/common/identity.ts';
import { loadConfig } from '../../../infra/config.ts';
import {
  customEmailSenderEvent,
  customMessageEvent,
  customSmsSenderEvent,
  lambdaContext as fixtureContext,
  postAuthenticationEvent,
  postConfirmationEvent,
  preAuthenticationEvent,
  preSignUpEvent,
  preTokenGenerationV1Event,
  userMigrationEvent,
} from '../../fixtures/events.ts';

export const POOL_ID = 'us-east-1_Reliab1ty';
export const OTHER_POOL_ID = 'us-east-1_OtherPool';
export const CLIENT_ID = 'reliabilityclientid0000000';
/** The default configuration's domain rule, as the functions build it from their environment. */
const SIGN_UP = loadConfig({ env: {} }).signUp;
export const POLICY = createDomainPolicy({ allowedDomains: SIGN_UP.allowedEmailDomains, allowSubdomains: SIGN_UP.allowSubdomains });

/** This suite's pool, for the shared event builders. */
const pool = { region: 'us-east-1', userPoolId: POOL_ID, clientId: CLIENT_ID } as const;
const named = (p: Person): Record<string, string> => (p.name ? { name: p.name } : {});
const confirmed = (p: Person) => ({ sub: p.sub, email: p.email, email_verified: 'true', 'cognito:user_status': 'CONFIRMED' });

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

export const preSignUp = (p: Person) => preSignUpEvent({ ...pool, userName: p.sub, userAttributes: { email: p.email, ...named(p) } });

export const customMessage = (p: Person) => customMessageEvent({ ...pool, userName: p.sub, userAttributes: { sub: p.sub, email: p.email, ...named(p) } });

export const postConfirmation = (p: Person) => postConfirmationEvent({ ...pool, userName: p.sub, userAttributes: { ...confirmed(p), ...named(p) } });

export const preAuthentication = (p: Person, userNotFound = false) =>
  preAuthenticationEvent({ ...pool, userName: p.sub, userAttributes: userNotFound ? {} : confirmed(p), ...(userNotFound ? { userNotFound } : {}) });

export const postAuthentication = (p: Person) => postAuthenticationEvent({ ...pool, userName: p.sub, userAttributes: confirmed(p) });

export const preTokenGeneration = (p: Person) => preTokenGenerationV1Event({ ...pool, userName: p.sub, userAttributes: { sub: p.sub, email: p.email, email_verified: 'true' } });

export const userMigration = (p: Person, password: string) => ({
  ...userMigrationEvent({ ...pool, userName: p.email, password }),
  response: { userAttributes: {}, desiredDeliveryMediums: ['EMAIL'] },
}) satisfies UserMigrationTriggerEvent;

export const customEmailSender = (p: Person, encryptedCode: string, poolId = POOL_ID) =>
  customEmailSenderEvent({ ...pool, userPoolId: poolId, userName: p.sub, code: encryptedCode, userAttributes: { sub: p.sub, email: p.email, ...named(p) } });

export const customSmsSender = (p: Person, encryptedCode: string, poolId = POOL_ID) =>
  customSmsSenderEvent({ ...pool, userPoolId: poolId, userName: p.sub, code: encryptedCode, userAttributes: { sub: p.sub, phone_number: p.phone ?? '+15555550100', ...named(p) } });

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
