/**
 * The USER_SRP_AUTH flow as a hostile client meets it: the proof is checked over a sealed secret block
 * that can be neither changed, replayed, moved to another client nor answered late, and the answers
 * for unknown users reveal nothing. The client side is amazon-cognito-identity-js's helper.
 */
import { expect } from 'chai';
import { SrpSignIn } from '../../../sandbox/cognito/srp-auth.ts';
import { rejection } from '../../fixtures/promises.ts';
import { answer, backend, initiate } from '../../fixtures/srp-client.ts';

const PASSWORD = 'Second-Breakfast-42';
const failure = (promise: Promise<unknown>) => rejection<{ code: string; message: string }>(promise);

describe('sandbox Cognito USER_SRP_AUTH flow', () => {
  const frodo = { Username: '7c1d-frodo', Password: PASSWORD, UserStatus: 'CONFIRMED' };
  const users = backend({ 'frodo@gmail.com': frodo });

  it('answers PASSWORD_VERIFIER with the user’s id and accepts the proof of the right password only', async () => {
    const srp = new SrpSignIn();
    const challenge = await initiate(srp, users, 'frodo@gmail.com');
    expect(challenge.ChallengeName).to.equal('PASSWORD_VERIFIER');
    expect(challenge.ChallengeParameters).to.include({ USERNAME: '7c1d-frodo', USER_ID_FOR_SRP: '7c1d-frodo' });
    expect(challenge.ChallengeParameters).to.have.keys('SALT', 'SECRET_BLOCK', 'SRP_B', 'USERNAME', 'USER_ID_FOR_SRP');
    expect(await srp.verify({ ClientId: 'app', ChallengeName: 'PASSWORD_VERIFIER', ChallengeResponses: await answer(challenge, PASSWORD) }, users)).to.deep.equal({ USERNAME: '7c1d-frodo', PASSWORD });
    const wrong = await failure(srp.verify({ ClientId: 'app', ChallengeResponses: await answer(await initiate(srp, users, 'frodo@gmail.com'), 'Not-The-Password-1') }, users));
    expect([wrong.code, wrong.message]).to.deep.equal(['NotAuthorizedException', 'Incorrect username or password.']);
  });

  it('accepts an answer once: a replayed proof is refused', async () => {
    const srp = new SrpSignIn();
    const responses = await answer(await initiate(srp, users, 'frodo@gmail.com'), PASSWORD);
    await srp.verify({ ClientId: 'app', ChallengeResponses: responses }, users);
    expect((await failure(srp.verify({ ClientId: 'app', ChallengeResponses: responses }, users))).code).to.equal('NotAuthorizedException');
  });

  it('refuses a changed secret block, one from another client, and one answered after the session’s validity', async () => {
    let now = Date.now();
    const srp = new SrpSignIn({ now: () => now });
    const responses = await answer(await initiate(srp, users, 'frodo@gmail.com'), PASSWORD);
    const block = Buffer.from(responses.PASSWORD_CLAIM_SECRET_BLOCK!, 'base64');
    block[block.length - 1]! ^= 1;
    const changed = { ...responses, PASSWORD_CLAIM_SECRET_BLOCK: block.toString('base64') };
    expect((await failure(srp.verify({ ClientId: 'app', ChallengeResponses: changed }, users))).message).to.equal('Incorrect username or password.');
    expect((await failure(srp.verify({ ClientId: 'other-app', ChallengeResponses: responses }, users))).message).to.equal('Incorrect username or password.');
    now += 3 * 60_000 + 1;
    expect((await failure(srp.verify({ ClientId: 'app', ChallengeResponses: responses }, users))).message).to.equal('Invalid session for the user, session is expired.');
  });

  it('checks the timestamp as Cognito does: a malformed one is an InvalidParameterException, a zero-padded day fails the proof', async () => {
    const srp = new SrpSignIn();
    const malformed = await failure(srp.verify({ ClientId: 'app', ChallengeResponses: await answer(await initiate(srp, users, 'frodo@gmail.com'), PASSWORD, 'Tue Mar  3 09:05:07 UTC 2026') }, users));
    expect([malformed.code, malformed.message]).to.deep.equal(['InvalidParameterException', 'TIMESTAMP format should be EEE MMM d HH:mm:ss z yyyy in english.']);
    const padded = await failure(srp.verify({ ClientId: 'app', ChallengeResponses: await answer(await initiate(srp, users, 'frodo@gmail.com'), PASSWORD, 'Tue Mar 03 09:05:07 UTC 2026') }, users));
    expect(padded.code).to.equal('NotAuthorizedException');
  });

  it('simulates a challenge for an unknown user, the same salt and id each time, then refuses any proof', async () => {
    const srp = new SrpSignIn();
    const one = (await initiate(srp, users, 'Gollum@gmail.com')).ChallengeParameters as Record<string, string>;
    const two = (await initiate(srp, users, 'gollum@gmail.com')).ChallengeParameters as Record<string, string>;
    expect(one.USER_ID_FOR_SRP).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect([one.SALT, one.USER_ID_FOR_SRP]).to.deep.equal([two.SALT, two.USER_ID_FOR_SRP]);
    expect(one.SRP_B).to.not.equal(two.SRP_B);
    const refused = await failure(srp.verify({ ClientId: 'app', ChallengeResponses: await answer(await initiate(srp, users, 'gollum@gmail.com'), 'Precious-Precious-1') }, users));
    expect([refused.code, refused.message]).to.deep.equal(['NotAuthorizedException', 'Incorrect username or password.']);
  });

  it('says UserNotFoundException only to a client without PreventUserExistenceErrors, and refuses clients without the SRP flow', async () => {
    const legacy = backend({}, [{ id: 'app', explicitAuthFlows: ['ALLOW_USER_SRP_AUTH'], preventUserExistenceErrors: false }]);
    expect((await failure(initiate(new SrpSignIn(), legacy, 'gollum@gmail.com'))).code).to.equal('UserNotFoundException');
    const passwordOnly = backend({}, [{ id: 'app', explicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH'], preventUserExistenceErrors: true }]);
    const refused = await failure(initiate(new SrpSignIn(), passwordOnly, 'frodo@gmail.com'));
    expect([refused.code, refused.message]).to.deep.equal(['InvalidParameterException', 'USER_SRP_AUTH is not enabled for the client.']);
  });

  it('refuses an SRP_A of zero and asks a user whose password must be reset to reset it', async () => {
    const zero = await failure(new SrpSignIn().initiate({ ClientId: 'app', AuthParameters: { USERNAME: 'frodo@gmail.com', SRP_A: '0' } }, users));
    expect(zero.code).to.equal('InvalidParameterException');
    const resetting = backend({ 'lobelia@gmail.com': { Username: 'lobelia', Password: 'x', UserStatus: 'RESET_REQUIRED' } });
    expect((await failure(initiate(new SrpSignIn(), resetting, 'lobelia@gmail.com'))).code).to.equal('PasswordResetRequiredException');
  });
});
