import { ExecutionAlreadyExists, InvalidArn, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { PreSignUpTriggerEvent } from 'aws-lambda';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { expect } from 'chai';
import { GENERIC_MESSAGE, UserFacingError } from '../../functions/common/errors.ts';
import { createDomainPolicy } from '../../functions/common/identity.ts';
import { preSignUp, reminderExecutionName, startReminder, type PreSignUpDeps } from '../../functions/pre-sign-up/logic.ts';
import { EMAIL, POOL_ID, SOURCES, SUB, preSignUpEvent } from '../fixtures/events.ts';
import { captureLogs, quietLogger } from '../fixtures/logs.ts';
import { withEnvironment } from '../fixtures/env.ts';
import { withAwsEndpoint } from '../fixtures/aws-endpoint.ts';

const ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:signup-reminder';
const NOW = Date.UTC(2025, 0, 2, 3, 4, 5);

describe('pre-sign-up', () => {
  quietLogger();
  // Created per suite and restored after it: client mocks patch the class prototype, which other suites mock too.
  let sfn: AwsClientStub<SFNClient>;
  before(() => {
    sfn = mockClient(SFNClient);
  });
  after(() => sfn.restore());
  beforeEach(() => {
    sfn.reset();
    sfn.on(StartExecutionCommand).resolves({ executionArn: `${ARN}:x`, startDate: new Date(NOW) });
  });

  function deps(overrides: Partial<PreSignUpDeps> = {}): PreSignUpDeps {
    return {
      sfn: new SFNClient({ region: 'eu-west-1' }),
      stateMachineArn: ARN,
      policy: createDomainPolicy({ allowedDomains: ['gmail.com', 'icloud.com', 'outlook.com'], allowSubdomains: false }),
      now: () => NOW,
      ...overrides,
    };
  }

  async function refusal(event: PreSignUpTriggerEvent, d = deps()): Promise<UserFacingError> {
    const error = await preSignUp(event, d).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(UserFacingError);
    return error as UserFacingError;
  }

  describe('domain rule', () => {
    for (const triggerSource of SOURCES.preSignUp) {
      it(`accepts an allowed domain in any case on ${triggerSource} and returns the event unchanged, confirming nothing`, async () => {
        const event = preSignUpEvent({ triggerSource, email: 'Frodo@Gmail.COM' });
        const before = structuredClone(event);
        const result = await preSignUp(event, deps());
        expect(result).to.deep.equal(before);
        expect(result.response).to.deep.equal({ autoConfirmUser: false, autoVerifyEmail: false, autoVerifyPhone: false });
      });

      it(`refuses a domain outside the list on ${triggerSource} with a message naming the allowed domains`, async () => {
        const error = await refusal(preSignUpEvent({ triggerSource, email: 'frodo@gmail.com.evil.com' }));
        expect(error.reason).to.equal('domain-not-allowed');
        expect(error.message).to.equal('Sign-up is open only to email addresses at gmail.com, icloud.com or outlook.com');
        expect(sfn.calls()).to.have.length(0);
      });
    }

    it('refuses an address that is not exactly one well-formed address', async () => {
      for (const email of ['a@b@gmail.com', 'frodo @gmail.com', 'frodo@gmail.com\n', '"x"@gmail.com', 'frodo@gmаil.com']) {
        const error = await refusal(preSignUpEvent({ email }));
        expect(error.message, email).to.match(/^Enter one valid email address/);
      }
    });

    it('refuses a sign-up without an email, with a specific message for a federated provider that shared none', async () => {
      expect((await refusal(preSignUpEvent({ userAttributes: { name: 'Frodo' } }))).message).to.equal('An email address is required to sign up');
      const federated = await refusal(preSignUpEvent({ triggerSource: 'PreSignUp_ExternalProvider', userAttributes: {} }));
      expect(federated.message).to.equal('Your sign-in provider did not share an email address');
    });

    it('refuses a malformed event with a clear message instead of crashing', async () => {
      const { request: _omit, ...withoutRequest } = preSignUpEvent();
      // A malformed event is exactly what this test is about, so the missing field is deliberate.
      const malformed = withoutRequest as unknown as PreSignUpTriggerEvent;
      expect((await refusal(malformed)).reason).to.equal('missing');
      const wrongType = preSignUpEvent({ userAttributes: { email: 'x'.repeat(1_000_000) } });
      expect((await refusal(wrongType)).reason).to.equal('too-long');
    });

    it('allows subdomains when configured', async () => {
      const policy = createDomainPolicy({ allowedDomains: ['acme.example'], allowSubdomains: true });
      await preSignUp(preSignUpEvent({ email: 'x@eu.acme.example' }), deps({ policy }));
      expect((await refusal(preSignUpEvent({ email: 'x@notacme.example' }), deps({ policy }))).reason).to.equal('domain-not-allowed');
    });
  });

  describe('reminder workflow', () => {
    it('starts the workflow on PreSignUp_SignUp with a deterministic name and an input without the email', async () => {
      await preSignUp(preSignUpEvent(), deps());
      const calls = sfn.commandCalls(StartExecutionCommand);
      expect(calls).to.have.length(1);
      const input = calls[0]!.args[0].input;
      expect(input.stateMachineArn).to.equal(ARN);
      expect(input.name).to.equal(reminderExecutionName(POOL_ID, SUB));
      expect(JSON.parse(input.input!)).to.deep.equal({ userPoolId: POOL_ID, username: SUB, signedUpAt: '2025-01-02T03:04:05.000Z' });
      expect(input.input).to.not.include(EMAIL);
    });

    it('does not start it for admin-created or federated users, who never wait for confirmation', async () => {
      await preSignUp(preSignUpEvent({ triggerSource: 'PreSignUp_AdminCreateUser' }), deps());
      await preSignUp(preSignUpEvent({ triggerSource: 'PreSignUp_ExternalProvider' }), deps());
      expect(sfn.calls()).to.have.length(0);
    });

    it('names executions stably per (pool, user) and differently per sign-up, within Step Functions limits', () => {
      const a = reminderExecutionName(POOL_ID, SUB);
      expect(reminderExecutionName(POOL_ID, SUB)).to.equal(a);
      expect(reminderExecutionName(POOL_ID, 'another-uuid')).to.not.equal(a);
      expect(reminderExecutionName('eu-west-1_Other', SUB)).to.not.equal(a);
      // The separator keeps ("a", "bc") and ("ab", "c") apart.
      expect(reminderExecutionName('a', 'bc')).to.not.equal(reminderExecutionName('ab', 'c'));
      const weird = reminderExecutionName(POOL_ID, 'frodo@gmail.com/ünïcødé '.repeat(20));
      expect(weird).to.match(/^[A-Za-z0-9_-]{1,80}$/);
    });

    it('treats ExecutionAlreadyExists (a Cognito retry) as success', async () => {
      sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }));
      expect(await startReminder(preSignUpEvent(), deps())).to.equal('already-started');
      const result = await preSignUp(preSignUpEvent(), deps());
      expect(result.userName).to.equal(SUB);
    });

    it('lets the sign-up continue and logs an error when the workflow cannot start', async () => {
      for (const failure of [new InvalidArn({ message: 'bad arn', $metadata: {} }), Object.assign(new Error('socket hang up'), { name: 'TimeoutError' })]) {
        sfn.reset();
        sfn.on(StartExecutionCommand).rejects(failure);
        const { lines, error } = await captureLogs(() => preSignUp(preSignUpEvent(), deps()));
        expect(error).to.equal(undefined);
        const logged = lines.find((l) => l.reminderWorkflow === 'failed');
        expect(logged).to.include({ level: 'ERROR', errorName: failure.name });
      }
    });

    it('replayed three times, the same sign-up asks for the same execution every time', async () => {
      const event = preSignUpEvent();
      for (let i = 0; i < 3; i++) await preSignUp(structuredClone(event), deps());
      const names = new Set(sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input.name));
      expect(names.size).to.equal(1);
    });

    it('does not start a workflow for an event that names no user', async () => {
      const event = preSignUpEvent({ userName: '' });
      expect(await startReminder(event, deps())).to.equal('failed');
      expect(sfn.calls()).to.have.length(0);
    });
  });

  describe('logs', () => {
    it('never contain the email address or its local part, only the domain', async () => {
      const email = 'secret.hobbit.name@gmail.com';
      const accepted = await captureLogs(() => preSignUp(preSignUpEvent({ email }), deps()));
      const refused = await captureLogs(() => preSignUp(preSignUpEvent({ email: 'secret.hobbit.name@evil.example' }), deps()));
      for (const { output } of [accepted, refused]) {
        expect(output).to.include('"emailDomain"');
        expect(output).to.not.include('secret.hobbit');
      }
    });
  });

  describe('handler', () => {
    const env = {
      ALLOWED_EMAIL_DOMAINS: 'gmail.com, icloud.com',
      ALLOW_SUBDOMAINS: 'false',
      REMINDER_STATE_MACHINE_ARN: ARN,
      AWS_REGION: 'eu-west-1',
    };
    withEnvironment(env);
    // The handler's client is the synchronous triggers' own (functions/common/aws-clients.ts): a loopback endpoint answers it.
    const aws = withAwsEndpoint();

    it('runs end to end: accepts, starts the workflow, and turns refusals and failures into safe messages', async () => {
      const { handler } = await import('../../functions/pre-sign-up/index.ts');
      aws.on('StartExecution', (input) => ({ executionArn: `${ARN.replace(':stateMachine:', ':execution:')}:${String(input.name)}`, startDate: Date.now() / 1000 }));
      const ok = await handler(preSignUpEvent());
      expect(ok.userName).to.equal(SUB);
      expect(aws.inputs('StartExecution')).to.have.length(1);
      expect(aws.inputs('StartExecution')[0]).to.include({ stateMachineArn: ARN });
      const refused = await handler(preSignUpEvent({ email: 'x@evil.example' })).catch((e: unknown) => e);
      expect(refused).to.be.instanceOf(UserFacingError).and.include({ message: 'Sign-up is open only to email addresses at gmail.com or icloud.com' });
      // An event so broken that the logic itself throws still reaches Cognito as the generic message.
      const broken = await handler(null as unknown as PreSignUpTriggerEvent).catch((e: unknown) => e);
      expect(broken).to.have.property('name', 'UserFacingError');
      expect([GENERIC_MESSAGE, 'An email address is required to sign up']).to.include((broken as Error).message);
    });
  });
});
