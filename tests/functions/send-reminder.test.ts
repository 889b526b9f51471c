/**
 * The reminder task: reminds only users AdminGetUser still reports UNCONFIRMED, tells the workflow whether
 * the account is pending, and sorts failures into retryable (`TransientError`) and final.
 */
import { AdminGetUserCommand, CognitoIdentityProviderClient, UserNotFoundException, type UserStatusType } from '@aws-sdk/client-cognito-identity-provider';
import { MessageRejected, SendEmailCommand, SESv2Client, TooManyRequestsException } from '@aws-sdk/client-sesv2';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { expect } from 'chai';
import { logger } from '../../functions/common/logger.ts';
import { InvalidTaskInput, TransientError, isTransient, parseTaskInput } from '../../functions/common/workflow-task.ts';
import { sendReminder } from '../../functions/send-reminder/remind.ts';
import { EMAIL, NAME, POOL_ID, SUB } from '../fixtures/events.ts';
import { captureLogs } from './sender-support.ts';

// Created per suite and restored after it: client mocks patch the class prototype for the whole process.
let cognito: AwsClientStub<CognitoIdentityProviderClient>;
let ses: AwsClientStub<SESv2Client>;
const INPUT = { userPoolId: POOL_ID, username: SUB };
const deps = () => ({
  cognito: new CognitoIdentityProviderClient({ region: 'eu-west-1' }),
  ses: new SESv2Client({ region: 'eu-west-1' }),
  branding: { appName: 'Middle-earth Mail', appUrl: 'https://example.com' },
  from: { address: 'no-reply@example.com', name: 'Middle-earth Mail' },
});
const meta = { $metadata: {} };

function userIs(UserStatus: UserStatusType, extra: { Enabled?: boolean; email?: string | null } = {}) {
  const attributes = [
    { Name: 'sub', Value: SUB },
    { Name: 'name', Value: NAME },
    ...(extra.email === null ? [] : [{ Name: 'email', Value: extra.email ?? EMAIL }]),
    { Name: 'email_verified', Value: 'true' }, // deliberately misleading: the status decides, not this attribute
  ];
  cognito.on(AdminGetUserCommand).resolves({ Username: SUB, UserStatus, Enabled: extra.Enabled ?? true, UserAttributes: attributes });
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('send-reminder task', () => {
  let level: string;
  before(() => {
    level = logger.getLevelName();
    logger.setLogLevel('SILENT');
    cognito = mockClient(CognitoIdentityProviderClient);
    ses = mockClient(SESv2Client);
  });
  after(() => {
    cognito.restore();
    ses.restore();
    logger.setLogLevel(level as Parameters<typeof logger.setLogLevel>[0]);
  });
  beforeEach(() => {
    cognito.reset();
    ses.reset();
    ses.on(SendEmailCommand).resolves({ MessageId: 'm-1' });
  });

  it('emails the reminder to an UNCONFIRMED user and reports the account pending', async () => {
    userIs('UNCONFIRMED');
    expect(await sendReminder(INPUT, deps())).to.deep.equal({ pending: true, status: 'UNCONFIRMED', reminded: true });
    expect(cognito.commandCalls(AdminGetUserCommand)[0]!.args[0].input).to.deep.equal({ UserPoolId: POOL_ID, Username: SUB });
    const sent = ses.commandCalls(SendEmailCommand)[0]!.args[0].input;
    expect(sent.Destination?.ToAddresses).to.deep.equal([EMAIL]);
    expect(sent.Content?.Simple?.Subject?.Data).to.be.a('string').and.not.equal('');
  });

  for (const status of ['CONFIRMED', 'FORCE_CHANGE_PASSWORD', 'RESET_REQUIRED', 'EXTERNAL_PROVIDER'] as const) {
    it(`sends nothing to a ${status} user and ends the workflow`, async () => {
      userIs(status);
      expect(await sendReminder(INPUT, deps())).to.deep.equal({ pending: false, status, reminded: false });
      expect(ses.commandCalls(SendEmailCommand)).to.have.length(0);
    });
  }

  it('reports NOT_FOUND for a user who is gone', async () => {
    cognito.on(AdminGetUserCommand).rejects(new UserNotFoundException({ message: 'User does not exist.', ...meta }));
    expect(await sendReminder(INPUT, deps())).to.deep.equal({ pending: false, status: 'NOT_FOUND', reminded: false });
    expect(ses.commandCalls(SendEmailCommand)).to.have.length(0);
  });

  it('keeps a user with no email pending (they are still deleted later) without emailing', async () => {
    userIs('UNCONFIRMED', { email: null });
    expect(await sendReminder(INPUT, deps())).to.deep.equal({ pending: true, status: 'UNCONFIRMED', reminded: false });
    expect(ses.commandCalls(SendEmailCommand)).to.have.length(0);
  });

  it('does not remind a disabled account', async () => {
    userIs('UNCONFIRMED', { Enabled: false });
    expect(await sendReminder(INPUT, deps())).to.include({ pending: true, reminded: false });
    expect(ses.commandCalls(SendEmailCommand)).to.have.length(0);
  });

  it('throws TransientError when Cognito throttles, so the state machine retries', async () => {
    cognito.on(AdminGetUserCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException', $metadata: { httpStatusCode: 429 } }));
    const error = await rejection(sendReminder(INPUT, deps()));
    expect(error).to.be.instanceOf(TransientError).and.to.have.property('name', 'TransientError');
  });

  it('throws TransientError when SES throttles', async () => {
    userIs('UNCONFIRMED');
    ses.on(SendEmailCommand).rejects(new TooManyRequestsException({ message: 'slow down', ...meta }));
    expect(await rejection(sendReminder(INPUT, deps()))).to.have.property('name', 'TransientError');
  });

  it('carries on when SES refuses the address for good, reporting the reminder unsent', async () => {
    userIs('UNCONFIRMED');
    ses.on(SendEmailCommand).rejects(new MessageRejected({ message: 'Email address is not verified.', ...meta }));
    expect(await sendReminder(INPUT, deps())).to.deep.equal({ pending: true, status: 'UNCONFIRMED', reminded: false });
  });

  it('lets a permanent Cognito error through under its own name (recorded, not retried)', async () => {
    cognito.on(AdminGetUserCommand).rejects(Object.assign(new Error('not allowed'), { name: 'AccessDeniedException', $fault: 'client', $metadata: { httpStatusCode: 400 } }));
    expect(await rejection(sendReminder(INPUT, deps()))).to.have.property('name', 'AccessDeniedException');
  });

  for (const bad of [null, {}, { userPoolId: POOL_ID }, { username: SUB }, { userPoolId: 'nope', username: SUB }, { userPoolId: POOL_ID, username: '' }]) {
    it(`rejects malformed input ${JSON.stringify(bad)} as InvalidTaskInput`, async () => {
      expect(await rejection(sendReminder(bad, deps()))).to.be.instanceOf(InvalidTaskInput);
      expect(cognito.calls()).to.have.length(0);
    });
  }

  it('parses the input the state machine sends', () => {
    expect(parseTaskInput({ userPoolId: POOL_ID, username: SUB, signedUpAt: '2025-01-01T00:00:00Z' })).to.deep.equal(INPUT);
  });

  it('classifies network failures and 5xx as transient, client faults as final', () => {
    expect(isTransient(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).to.equal(true);
    expect(isTransient(Object.assign(new Error('x'), { $metadata: { httpStatusCode: 503 } }))).to.equal(true);
    expect(isTransient(Object.assign(new Error('x'), { name: 'TimeoutError' }))).to.equal(true);
    expect(isTransient(Object.assign(new Error('x'), { name: 'InvalidParameterException', $metadata: { httpStatusCode: 400 } }))).to.equal(false);
    expect(isTransient('boom')).to.equal(false);
  });

  it('never logs the address or the name', async () => {
    userIs('UNCONFIRMED');
    const { logs, error } = await captureLogs(() => sendReminder(INPUT, deps()));
    expect(error).to.equal(undefined);
    expect(logs).to.include('Reminder sent');
    for (const secret of [EMAIL, 'frodo.baggins', NAME]) expect(logs).not.to.include(secret);
  });
});
