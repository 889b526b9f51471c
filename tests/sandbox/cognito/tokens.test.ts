/**
 * The sandbox's tokens: Cognito's claims, pre token generation V2 overrides on both tokens (never on
 * reserved claims), one origin_jti per sign-in across refreshes, revocation, and the checks an access
 * token must pass before the API serves it.
 */
import { expect } from 'chai';
import type { AppClient } from 'cognito-local/lib/services/appClient.js';
import type { Context } from 'cognito-local/lib/services/context.js';
import type { User } from 'cognito-local/lib/services/userPoolService.js';
import { currentRequest, overridesOf, PoolTokens, type TokenOverrides } from '../../../sandbox/cognito/tokens.ts';
import { claims } from '../../fixtures/sandbox.ts';

const ISSUER = 'http://127.0.0.1:9229/us-east-1_Pool1';
const ctx = {} as Context;
const client = { ClientId: 'client-1', UserPoolId: 'us-east-1_Pool1', AccessTokenValidity: 5, TokenValidityUnits: { AccessToken: 'minutes' } } as AppClient;
const user = {
  Username: 'frodo-uuid',
  Attributes: [
    { Name: 'sub', Value: 'frodo-uuid' },
    { Name: 'email', Value: 'frodo@gmail.com' },
    { Name: 'email_verified', Value: 'true' },
    { Name: 'phone_number_verified', Value: 'false' },
    { Name: 'name', Value: 'Frodo Baggins' },
  ],
  UserStatus: 'CONFIRMED',
  Enabled: true,
  Password: 'unused',
  UserCreateDate: new Date(),
  UserLastModifiedDate: new Date(),
  RefreshTokens: [],
} as User;

function tokens(overrides?: TokenOverrides, now = () => Date.now()) {
  return new PoolTokens(ISSUER, async () => overrides, now);
}

describe('sandbox Cognito tokens', () => {
  it('issues Cognito’s claims: attributes in the ID token (verified flags as booleans), version 2, scope and username in the access token', async () => {
    const issued = await tokens().generate(ctx, user, ['hobbits'], client, undefined, 'Authentication');
    const id = claims(issued.IdToken);
    const access = claims(issued.AccessToken);
    expect(id).to.include({ sub: 'frodo-uuid', email: 'frodo@gmail.com', email_verified: true, phone_number_verified: false, name: 'Frodo Baggins', 'cognito:username': 'frodo-uuid', aud: 'client-1', token_use: 'id', iss: ISSUER });
    expect(access).to.include({ sub: 'frodo-uuid', version: 2, client_id: 'client-1', token_use: 'access', scope: 'aws.cognito.signin.user.admin', username: 'frodo-uuid', iss: ISSUER });
    expect(access['cognito:groups']).to.deep.equal(['hobbits']);
    expect(access.origin_jti).to.be.a('string').and.equal(id.origin_jti);
    expect(Number(access.exp) - Number(access.iat), 'the client’s access token validity').to.equal(300);
    expect(Number(id.exp) - Number(id.iat), 'Cognito’s default validity').to.equal(3600);
  });

  it('applies V2 overrides to the access token as well as the ID token, claims and scopes, but never to reserved claims', async () => {
    const issued = await tokens({
      idToken: { claimsToSuppress: ['email', 'email_verified', 'sub'], claimsToAddOrOverride: { tier: 'gold', iss: 'https://evil.example' } },
      accessToken: { claimsToAddOrOverride: { tenant: 'shire', token_use: 'id' }, claimsToSuppress: ['username'], scopesToAdd: ['shire/read'], scopesToSuppress: ['aws.cognito.signin.user.admin'] },
    }).generate(ctx, user, [], client, undefined, 'Authentication');
    const id = claims(issued.IdToken);
    const access = claims(issued.AccessToken);
    expect(id).to.not.have.property('email');
    expect(id).to.not.have.property('email_verified');
    expect(id).to.include({ tier: 'gold', iss: ISSUER, sub: 'frodo-uuid' });
    expect(access).to.include({ tenant: 'shire', token_use: 'access', username: 'frodo-uuid', scope: 'shire/read' });
  });

  it('reads V1 responses as ID-token overrides and V2 responses per token', () => {
    const v1 = { claimsOverrideDetails: { claimsToSuppress: ['email'] } };
    expect(overridesOf(v1, false)).to.deep.equal({ idToken: { claimsToSuppress: ['email'] } });
    const v2 = { claimsAndScopeOverrideDetails: { idTokenGeneration: { claimsToSuppress: ['email'] }, accessTokenGeneration: { scopesToAdd: ['shire/read'] } } };
    expect(overridesOf(v2, true)).to.deep.equal({ idToken: { claimsToSuppress: ['email'] }, accessToken: { scopesToAdd: ['shire/read'] } });
    expect(overridesOf({ claimsAndScopeOverrideDetails: null }, true)).to.deep.equal({ idToken: undefined, accessToken: undefined });
  });

  it('keeps the origin_jti and auth_time of the sign-in across a refresh, and a new sign-in gets a new one', async () => {
    let now = Date.now();
    const pool = tokens(undefined, () => now);
    const first = await pool.generate(ctx, user, [], client, undefined, 'Authentication');
    now += 120_000;
    const refreshed = await currentRequest.run({ AuthParameters: { REFRESH_TOKEN: first.RefreshToken } }, () => pool.generate(ctx, user, [], client, undefined, 'RefreshTokens'));
    expect(claims(refreshed.AccessToken).origin_jti).to.equal(claims(first.AccessToken).origin_jti);
    expect(claims(refreshed.AccessToken).auth_time).to.equal(claims(first.AccessToken).auth_time);
    expect(claims(refreshed.AccessToken).iat).to.be.greaterThan(Number(claims(first.AccessToken).iat));
    const other = await pool.generate(ctx, user, [], client, undefined, 'Authentication');
    expect(claims(other.AccessToken).origin_jti).to.not.equal(claims(first.AccessToken).origin_jti);
  });

  it('refuses access tokens of a revoked refresh token, and every one of a user signed out everywhere', async () => {
    const pool = tokens();
    const one = await pool.generate(ctx, user, [], client, undefined, 'Authentication');
    const two = await pool.generate(ctx, user, [], client, undefined, 'Authentication');
    pool.revokeRefreshToken(one.RefreshToken);
    expect(() => pool.checkAccessToken(one.AccessToken)).to.throw('Access Token has been revoked');
    expect(pool.checkAccessToken(two.AccessToken).username).to.equal('frodo-uuid');
    pool.signOutEverywhere('frodo-uuid');
    expect(() => pool.checkAccessToken(two.AccessToken)).to.throw('Access Token has been revoked');
    const after = await pool.generate(ctx, user, [], client, undefined, 'Authentication');
    expect(pool.checkAccessToken(after.AccessToken).username, 'a later sign-in works').to.equal('frodo-uuid');
  });

  it('refuses an access token that is forged, from another pool, an ID token, or expired', async () => {
    let now = Date.now();
    const pool = tokens(undefined, () => now);
    const issued = await pool.generate(ctx, user, [], client, undefined, 'Authentication');
    const [header, payload, signature] = issued.AccessToken.split('.');
    const forged = `${header}.${Buffer.from(JSON.stringify({ ...claims(issued.AccessToken), username: 'gandalf' })).toString('base64url')}.${signature}`;
    expect(() => pool.checkAccessToken(forged)).to.throw('Invalid Access Token');
    expect(() => pool.checkAccessToken(`${header}.${payload}`)).to.throw('Invalid Access Token');
    expect(() => pool.checkAccessToken(issued.IdToken)).to.throw('Invalid Access Token');
    const elsewhere = await new PoolTokens('http://127.0.0.1:9229/us-east-1_Other', async () => undefined).generate(ctx, user, [], client, undefined, 'Authentication');
    expect(() => pool.checkAccessToken(elsewhere.AccessToken)).to.throw('Invalid Access Token');
    now += 301_000;
    expect(() => pool.checkAccessToken(issued.AccessToken)).to.throw('Access Token has expired');
  });
});
