/**
 * Hostile input to the sandbox's own sign-in code: SRP proofs with any byte of the secret block,
 * the signature or the timestamp changed, and access tokens with any character changed, must all be
 * refused. The sandbox stands in for Cognito while an app is built against it; a hole here would let
 * an app's tests pass on a sign-in Cognito refuses.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import type { AppClient } from 'cognito-local/lib/services/appClient.js';
import type { Context } from 'cognito-local/lib/services/context.js';
import type { User } from 'cognito-local/lib/services/userPoolService.js';
import { SrpSignIn } from '../../sandbox/cognito/srp-auth.ts';
import { PoolTokens } from '../../sandbox/cognito/tokens.ts';
import { answer, backend, initiate } from '../fixtures/srp-client.ts';
import { record } from './lib/figures.ts';

const PASSWORD = 'Second-Breakfast-42';

/** `text` with the character at `at` replaced by another of the same alphabet. */
function mutate(text: string, at: number, alphabet: string, pick: number): string {
  const i = at % text.length;
  const options = alphabet.replace(text[i]!, '');
  return text.slice(0, i) + options[pick % options.length] + text.slice(i + 1);
}
const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

describe('reliability: sandbox sign-in against hostile input', function () {
  this.timeout(120_000);

  it('refuses every SRP proof with one character of its secret block, signature or timestamp changed', async () => {
    const users = backend({ 'frodo@gmail.com': { Username: 'frodo-id', Password: PASSWORD, UserStatus: 'CONFIRMED' } });
    const srp = new SrpSignIn();
    let tried = 0;
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('PASSWORD_CLAIM_SECRET_BLOCK', 'PASSWORD_CLAIM_SIGNATURE', 'TIMESTAMP'), fc.nat(), fc.nat(), async (field, at, pick) => {
        const responses = await answer(await initiate(srp, users, 'frodo@gmail.com'), PASSWORD);
        // Only the data characters of base64 (not its padding), so the change is a real change of the bytes.
        const value = responses[field]!;
        const body = field === 'TIMESTAMP' ? value : value.replace(/=+$/, '');
        const changed = mutate(body, at, field === 'TIMESTAMP' ? '0123456789' : BASE64, pick) + value.slice(body.length);
        // A change in the unused low bits of the last base64 character changes no byte: not a different proof.
        if (field !== 'TIMESTAMP' && Buffer.from(changed, 'base64').equals(Buffer.from(value, 'base64'))) return;
        tried++;
        const outcome = await srp.verify({ ClientId: 'app', ChallengeResponses: { ...responses, [field]: changed } }, users).then(
          () => 'accepted',
          (e: { code?: string }) => e.code,
        );
        if (outcome === 'accepted') accepted++;
        expect(outcome).to.be.oneOf(['NotAuthorizedException', 'InvalidParameterException']);
      }),
      { numRuns: 40 },
    );
    record({
      id: 'hostile.srp-proof',
      area: 'hostile input',
      scenario: 'Sandbox USER_SRP_AUTH: the client library’s proof with one character of the secret block, the signature or the timestamp changed',
      load: `${tried} changed proofs`,
      expected: 'all refused (NotAuthorizedException, or InvalidParameterException for a malformed timestamp)',
      measured: `${accepted} accepted`,
      ok: accepted === 0,
    });
  });

  it('refuses every access token with one character of its header, claims or signature changed', async () => {
    const pool = new PoolTokens('http://127.0.0.1:9229/us-east-1_Shire1', async () => undefined);
    const user = { Username: 'frodo-id', Attributes: [{ Name: 'sub', Value: 'frodo-id' }], UserStatus: 'CONFIRMED', Enabled: true, Password: 'x', UserCreateDate: new Date(), UserLastModifiedDate: new Date(), RefreshTokens: [] } as User;
    const { AccessToken } = await pool.generate({} as Context, user, [], { ClientId: 'app', UserPoolId: 'us-east-1_Shire1' } as AppClient, undefined, 'Authentication');
    let tried = 0;
    let accepted = 0;
    fc.assert(
      fc.property(fc.nat(), fc.nat(), (at, pick) => {
        const i = at % AccessToken.length;
        if (AccessToken[i] === '.') return;
        // The last character of a base64url part may carry unused bits; changing those alone changes no byte.
        const changed = mutate(AccessToken, i, BASE64URL, pick);
        if (Buffer.from(changed.split('.')[2] ?? '', 'base64url').equals(Buffer.from(AccessToken.split('.')[2]!, 'base64url')) && changed.split('.').slice(0, 2).join('.') === AccessToken.split('.').slice(0, 2).join('.')) return;
        tried++;
        let ok = false;
        try {
          pool.checkAccessToken(changed);
          ok = true;
        } catch (e) {
          expect((e as { code?: string }).code).to.equal('NotAuthorizedException');
        }
        if (ok) accepted++;
      }),
      { numRuns: 400 },
    );
    record({
      id: 'hostile.access-token',
      area: 'hostile input',
      scenario: 'Sandbox access-token check (signature, issuer, token_use, expiry, revocation) against tokens with one character changed',
      load: `${tried} changed tokens`,
      expected: 'all refused with NotAuthorizedException',
      measured: `${accepted} accepted`,
      ok: accepted === 0,
    });
    expect(accepted).to.equal(0);
    expect(pool.checkAccessToken(AccessToken).username).to.equal('frodo-id');
  });
});
