import { expect } from 'chai';
import { GENERIC_MESSAGE, UserFacingError } from '../../../functions/common/errors.ts';
import { lambdaHandler } from '../../../functions/common/handler.ts';
import { fingerprint, logger } from '../../../functions/common/logger.ts';
import { captureLogs } from '../../fixtures/logs.ts';
import { lambdaContext, preSignUpEvent } from '../../fixtures/events.ts';

describe('lambdaHandler', () => {
  const failing = (error: unknown) => () => {
    throw error;
  };

  it('puts the Lambda context and the userName fingerprint of a Cognito trigger on every log line', async () => {
    const event = preSignUpEvent({ userName: 'frodo@gmail.com' });
    const handler = lambdaHandler({ kind: 'sync-trigger' }, (e: typeof event) => {
      logger.info('inside');
      return e;
    });
    const { lines } = await captureLogs(() => handler(event, lambdaContext('pre-sign-up')));
    const line = lines.find((l) => l.message === 'inside')!;
    expect(line.correlation_id).to.equal(fingerprint('frodo@gmail.com'));
    expect(line.function_name).to.equal('pre-sign-up');
    expect(JSON.stringify(lines)).not.to.include('frodo@gmail.com');
  });

  it('passes the context through to the logic', async () => {
    const context = lambdaContext('send-reminder');
    const seen = await lambdaHandler({ kind: 'workflow-task' }, (_input: unknown, c) => c)({}, context);
    expect(seen).to.equal(context);
  });

  it('turns an unexpected error of a synchronous trigger into the generic message and logs it by name only', async () => {
    const secret = new Error('connect ECONNREFUSED 10.0.0.7 for frodo@gmail.com');
    const handler = lambdaHandler({ kind: 'sync-trigger', failure: { message: 'Trigger failed' } }, failing(secret));
    const { lines, error } = await captureLogs(() => handler(preSignUpEvent()));
    expect(error).to.be.instanceOf(UserFacingError).with.property('message', GENERIC_MESSAGE);
    expect((error as UserFacingError).reason).to.equal('internal');
    const logged = lines.filter((l) => l.message === 'Trigger failed');
    expect(logged).to.have.length(1);
    expect(logged[0]).to.include({ level: 'ERROR', errorName: 'Error' });
    expect(JSON.stringify(lines)).not.to.include('ECONNREFUSED');
  });

  it('lets a user-facing refusal through unchanged without an ERROR line, unless told to log refusals', async () => {
    const refusal = new UserFacingError('domain-not-allowed', 'Sign-up is not open to this address');
    const quiet = await captureLogs(() => lambdaHandler({ kind: 'sync-trigger', failure: { message: 'Trigger failed' } }, failing(refusal))(preSignUpEvent()));
    expect(quiet.error).to.equal(refusal);
    expect(quiet.lines.filter((l) => l.level === 'ERROR')).to.deep.equal([]);
    const loud = await captureLogs(() =>
      lambdaHandler({ kind: 'sync-trigger', failure: { message: 'Trigger failed', includeRefusals: true } }, failing(refusal))(preSignUpEvent()),
    );
    expect(loud.error).to.equal(refusal);
    expect(loud.lines.find((l) => l.message === 'Trigger failed')).to.include({ level: 'ERROR', reason: 'domain-not-allowed' });
  });

  it('rethrows what an asynchronous trigger or a task throws, so Lambda or the state machine retries by it', async () => {
    const transient = Object.assign(new Error('throttled'), { name: 'TransientError' });
    for (const kind of ['async-trigger', 'workflow-task', 'async-task'] as const) {
      const { error } = await captureLogs(() => lambdaHandler({ kind }, failing(transient))({}));
      expect(error, kind).to.equal(transient);
    }
  });
});
