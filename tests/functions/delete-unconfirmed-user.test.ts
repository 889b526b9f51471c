/**
 * The deletion task: deletes only users still UNCONFIRMED, notifies them, and is a no-op on replays,
 * for confirmed users and for users already gone.
 */
import {
  AdminDeleteUserCommand,
  AdminGetUserCommand,
  CognitoIdentityProviderClient,
  UserNotFoundException,
} from '@aws-sdk/client-cognito-identity-provider';
import { SendEmailCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { expect } from 'chai';
import { InvalidTaskInput, TransientError } from '../../functions/common/workflow-task.ts';
import { deleteUnconfirmedUser } from '../../functions/delete-unconfirmed-user/logic.ts';
import { EMAIL, NAME, POOL_ID, SUB } from '../fixtures/events.ts';
import { rejection } from '../fixtures/promises.ts';
import { captureLogs, quietLogger } from '../fixtures/logs.ts';
import { withEnvironment } from '../fixtures/env.ts';

// Created per suite and restored after it: client mocks patch the class prototype for the whole process.
let cognito: AwsClientStub<CognitoIdentityProviderClient>;
let ses: AwsClientStub<SESv2Client>;
const INPUT = { userPoolId: POOL_ID, username: SUB };
const meta = { $metadata: {} };
const deps = () => ({
  cognito: new CognitoIdentityProviderClient({ region: 'eu-west-1' }),
  ses: new SESv2Client({ region: 'eu-west-1' }),
  branding: { appName: 'Middle-earth Mail' },
  from: { address: 'no-reply@example.com', name: 'Middle-earth Mail' },
});

/** A pool holding one user, whose AdminDeleteUser really removes them. */
function pool(UserStatus: string, email: string | null = EMAIL) {
  let exists = true;
  cognito.on(AdminGetUserCommand).callsFake(() => {
    if (!exists) throw new UserNotFoundException({ message: 'User does not exist.', ...meta });
    return { Username: SUB, UserStatus, Enabled: true, UserAttributes: [{ Name: 'name', Value: NAME }, ...(email ? [{ Name: 'email', Value: email }] : [])] };
  });
  cognito.on(AdminDeleteUserCommand).callsFake(() => {
    if (!exists) throw new UserNotFoundException({ message: 'User does not exist.', ...meta });
    exists = false;
    return {};
  });
}


describe('delete-unconfirmed-user task', () => {
  quietLogger();
  before(() => {
    cognito = mockClient(CognitoIdentityProviderClient);
    ses = mockClient(SESv2Client);
  });
  after(() => {
    cognito.restore();
    ses.restore();
  });
  beforeEach(() => {
    cognito.reset();
    ses.reset();
    ses.on(SendEmailCommand).resolves({ MessageId: 'm-1' });
  });

  it('deletes an UNCONFIRMED user and emails the notice', async () => {
    pool('UNCONFIRMED');
    expect(await deleteUnconfirmedUser(INPUT, deps())).to.deep.equal({ deleted: true, status: 'UNCONFIRMED', notified: true });
    expect(cognito.commandCalls(AdminDeleteUserCommand)[0]!.args[0].input).to.deep.equal({ UserPoolId: POOL_ID, Username: SUB });
    expect(ses.commandCalls(SendEmailCommand)[0]!.args[0].input.Destination?.ToAddresses).to.deep.equal([EMAIL]);
  });

  it('is a no-op when replayed: one deletion, one notice', async () => {
    pool('UNCONFIRMED');
    await deleteUnconfirmedUser(INPUT, deps());
    expect(await deleteUnconfirmedUser(INPUT, deps())).to.deep.equal({ deleted: false, status: 'NOT_FOUND', notified: false });
    expect(await deleteUnconfirmedUser(INPUT, deps())).to.deep.equal({ deleted: false, status: 'NOT_FOUND', notified: false });
    expect(cognito.commandCalls(AdminDeleteUserCommand)).to.have.length(1);
    expect(ses.commandCalls(SendEmailCommand)).to.have.length(1);
  });

  for (const status of ['CONFIRMED', 'FORCE_CHANGE_PASSWORD', 'EXTERNAL_PROVIDER']) {
    it(`leaves a ${status} user alone and succeeds`, async () => {
      pool(status);
      expect(await deleteUnconfirmedUser(INPUT, deps())).to.deep.equal({ deleted: false, status, notified: false });
      expect(cognito.commandCalls(AdminDeleteUserCommand)).to.have.length(0);
      expect(ses.commandCalls(SendEmailCommand)).to.have.length(0);
    });
  }

  it('succeeds when the user vanished between the check and the deletion', async () => {
    cognito.on(AdminGetUserCommand).resolves({ Username: SUB, UserStatus: 'UNCONFIRMED', UserAttributes: [{ Name: 'email', Value: EMAIL }] });
    cognito.on(AdminDeleteUserCommand).rejects(new UserNotFoundException({ message: 'gone', ...meta }));
    expect(await deleteUnconfirmedUser(INPUT, deps())).to.deep.equal({ deleted: false, status: 'NOT_FOUND', notified: false });
    expect(ses.commandCalls(SendEmailCommand)).to.have.length(0);
  });

  it('throws TransientError when the deletion is throttled, and the retry deletes once', async () => {
    pool('UNCONFIRMED');
    cognito.on(AdminDeleteUserCommand).rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException', $metadata: { httpStatusCode: 429 } }));
    expect(await rejection(deleteUnconfirmedUser(INPUT, deps()))).to.be.instanceOf(TransientError);
    expect(ses.commandCalls(SendEmailCommand)).to.have.length(0);
    pool('UNCONFIRMED');
    expect(await deleteUnconfirmedUser(INPUT, deps())).to.include({ deleted: true, notified: true });
    expect(ses.commandCalls(SendEmailCommand)).to.have.length(1);
  });

  it('reports a notice SES refused after the deletion instead of failing the finished deletion', async () => {
    pool('UNCONFIRMED');
    ses.on(SendEmailCommand).rejects(Object.assign(new Error('Throttling'), { name: 'TooManyRequestsException', $metadata: { httpStatusCode: 429 } }));
    const { output: logs, result } = await captureLogs(() => deleteUnconfirmedUser(INPUT, deps()));
    expect(result).to.deep.equal({ deleted: true, status: 'UNCONFIRMED', notified: false });
    expect(logs).to.include('Deletion notice not sent');
    expect(logs).not.to.include(EMAIL);
  });

  it('deletes a user with no email without trying to notify', async () => {
    pool('UNCONFIRMED', null);
    expect(await deleteUnconfirmedUser(INPUT, deps())).to.deep.equal({ deleted: true, status: 'UNCONFIRMED', notified: false });
    expect(ses.commandCalls(SendEmailCommand)).to.have.length(0);
  });

  it('rejects malformed input before touching the pool', async () => {
    expect(await rejection(deleteUnconfirmedUser({ userPoolId: POOL_ID }, deps()))).to.be.instanceOf(InvalidTaskInput);
    expect(cognito.calls()).to.have.length(0);
  });

  describe('handler', () => {
    withEnvironment({ APP_NAME: 'Middle-earth Mail', FROM_EMAIL_ADDRESS: 'no-reply@example.com', AWS_REGION: 'eu-west-1' });

    it('deletes with its own clients and signs the notice with the configured sender; malformed input reaches the state machine as thrown', async () => {
      const { handler } = await import('../../functions/delete-unconfirmed-user/index.ts');
      pool('UNCONFIRMED');
      // Captured at DEBUG despite the suite's quiet logger, and checked for the address.
      const run = await captureLogs(() => handler(INPUT));
      expect(run.result).to.deep.equal({ deleted: true, status: 'UNCONFIRMED', notified: true });
      expect(run.output).to.include('Unconfirmed user deleted');
      expect(run.output).not.to.include(EMAIL);
      expect(cognito.commandCalls(AdminDeleteUserCommand)).to.have.length(1);
      expect(ses.commandCalls(SendEmailCommand)[0]!.args[0].input.FromEmailAddress).to.equal('Middle-earth Mail <no-reply@example.com>');
      expect(await rejection(handler({ userPoolId: POOL_ID } as typeof INPUT))).to.be.instanceOf(InvalidTaskInput);
    });
  });
});
