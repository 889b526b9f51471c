import { expect } from 'chai';
import { decide } from '../../functions/define-auth-challenge/logic.ts';
import { handler } from '../../functions/define-auth-challenge/index.ts';
import { MAX_WRONG_ANSWERS } from '../../functions/common/passwordless.ts';
import { defineAuthChallengeEvent, type SessionEntry } from '../fixtures/events.ts';
import { quietLogger } from '../fixtures/logs.ts';

const ID = 'a'.repeat(32);
const method = (): SessionEntry => ({ challengeName: 'CUSTOM_CHALLENGE', challengeResult: false, challengeMetadata: 'METHOD' });
const code = (challengeResult: boolean): SessionEntry => ({ challengeName: 'CUSTOM_CHALLENGE', challengeResult, challengeMetadata: `CODE:${ID}` });
const link = (challengeResult: boolean): SessionEntry => ({ challengeName: 'CUSTOM_CHALLENGE', challengeResult, challengeMetadata: `LINK:${ID}` });

describe('define-auth-challenge', () => {
  quietLogger();
  describe('decide', () => {
    it('starts every session with a custom challenge (the method round)', () => {
      expect(decide([])).to.deep.equal({ next: 'challenge', reason: 'first-round' });
    });

    it('issues the secret round once the method round is answered, whatever its result', () => {
      expect(decide([method()])).to.deep.equal({ next: 'challenge', reason: 'method-chosen' });
      expect(decide([{ ...method(), challengeResult: true }])).to.deep.equal({ next: 'challenge', reason: 'method-chosen' });
    });

    it('issues tokens when the last link or code answer was correct', () => {
      expect(decide([method(), code(true)])).to.deep.equal({ next: 'tokens', reason: 'answered' });
      expect(decide([method(), link(false), link(true)])).to.deep.equal({ next: 'tokens', reason: 'answered' });
    });

    it('re-presents the challenge after a wrong answer, up to three wrong answers, then fails', () => {
      expect(decide([method(), code(false)])).to.deep.equal({ next: 'challenge', reason: 'retry' });
      expect(decide([method(), code(false), code(false)])).to.deep.equal({ next: 'challenge', reason: 'retry' });
      const third = [method(), ...Array.from({ length: MAX_WRONG_ANSWERS }, () => code(false))];
      expect(decide(third)).to.deep.equal({ next: 'fail', reason: 'too-many-wrong-answers' });
      // Wrong answers count across methods and rounds: asking for a new method does not reset them.
      expect(decide([method(), code(false), method(), link(false), method(), link(false)])).to.deep.equal({ next: 'fail', reason: 'too-many-wrong-answers' });
    });

    it('fails a session that keeps asking for the method without choosing one', () => {
      expect(decide([method(), method(), method()])).to.deep.equal({ next: 'challenge', reason: 'method-chosen' });
      expect(decide([method(), method(), method(), method()])).to.deep.equal({ next: 'fail', reason: 'too-many-method-rounds' });
    });

    it('fails sessions holding any challenge this flow did not issue (SRP, a foreign or forged metadata)', () => {
      expect(decide([{ challengeName: 'SRP_A', challengeResult: true }])).to.deep.equal({ next: 'fail', reason: 'foreign-challenge' });
      expect(decide([{ challengeName: 'PASSWORD_VERIFIER', challengeResult: true }, code(true)])).to.deep.equal({ next: 'fail', reason: 'foreign-challenge' });
      expect(decide([{ challengeName: 'CUSTOM_CHALLENGE', challengeResult: true, challengeMetadata: 'CAPTCHA' }])).to.deep.equal({ next: 'fail', reason: 'foreign-challenge' });
      expect(decide([{ challengeName: 'CUSTOM_CHALLENGE', challengeResult: true }])).to.deep.equal({ next: 'fail', reason: 'foreign-challenge' });
      expect(decide([method(), { challengeName: 'CUSTOM_CHALLENGE', challengeResult: true, challengeMetadata: 'CODE:not-an-id' }])).to.deep.equal({ next: 'fail', reason: 'foreign-challenge' });
    });

    it('fails a malformed session', () => {
      expect(decide(undefined)).to.deep.equal({ next: 'fail', reason: 'malformed-session' });
      expect(decide({} as never)).to.deep.equal({ next: 'fail', reason: 'malformed-session' });
      expect(decide([null as never])).to.deep.equal({ next: 'fail', reason: 'foreign-challenge' });
    });
  });

  describe('handler', () => {
    it('answers Cognito with exactly one of challenge, tokens or failure', async () => {
      expect((await handler(defineAuthChallengeEvent())).response).to.deep.equal({ issueTokens: false, failAuthentication: false, challengeName: 'CUSTOM_CHALLENGE' });
      expect((await handler(defineAuthChallengeEvent({ session: [method(), code(true)] }))).response).to.deep.equal({ issueTokens: true, failAuthentication: false });
      expect((await handler(defineAuthChallengeEvent({ session: [method(), code(false), code(false), code(false)] }))).response).to.deep.equal({ issueTokens: false, failAuthentication: true });
    });

    it('walks an unknown user through the same rounds as a real one', async () => {
      for (const session of [[], [method()], [method(), code(false)]]) {
        const known = await handler(defineAuthChallengeEvent({ session }));
        const unknown = await handler(defineAuthChallengeEvent({ session, userNotFound: true, userName: 'nobody@gmail.com' }));
        expect(unknown.response).to.deep.equal(known.response);
      }
    });
  });
});
