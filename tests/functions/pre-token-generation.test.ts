import type { PreTokenGenerationTriggerEvent, PreTokenGenerationV2TriggerEvent, PreTokenGenerationV3TriggerEvent } from 'aws-lambda';
import { expect } from 'chai';
import { UserFacingError } from '../../functions/common/errors.ts';
import { createDomainPolicy } from '../../functions/common/identity.ts';
import { responseShape, suppressEmailClaims } from '../../functions/pre-token-generation/logic.ts';
import { enforceDomainPolicy } from '../../functions/pre-token-generation/policy.ts';
import { SOURCES, clientCredentialsV3Event, confirmedUserAttributes, preTokenGenerationV1Event, preTokenGenerationV2Event } from '../fixtures/events.ts';
import { withEnvironment } from '../fixtures/env.ts';
import { captureLogs } from '../fixtures/logs.ts';

const POLICY = createDomainPolicy({ allowedDomains: ['gmail.com', 'icloud.com'], allowSubdomains: false });

function tokenRefusal(run: () => void): UserFacingError {
  try {
    run();
  } catch (error) {
    expect(error).to.be.instanceOf(UserFacingError);
    return error as UserFacingError;
  }
  throw new Error('tokens were not refused');
}

describe('pre-token-generation', () => {
  for (const triggerSource of SOURCES.tokenGeneration) {
    it(`suppresses email and email_verified in the V1 response on ${triggerSource}`, () => {
      const result = suppressEmailClaims(preTokenGenerationV1Event({ triggerSource }));
      expect(result.response).to.deep.equal({ claimsOverrideDetails: { claimsToSuppress: ['email', 'email_verified'] } });
    });

    it(`suppresses email and email_verified in the V2_0 ID token on ${triggerSource}, leaving the access token alone`, () => {
      const result = suppressEmailClaims(preTokenGenerationV2Event({ triggerSource }));
      expect(result.response).to.deep.equal({ claimsAndScopeOverrideDetails: { idTokenGeneration: { claimsToSuppress: ['email', 'email_verified'] } } });
    });
  }

  it('keeps existing overrides, merges suppressions without duplicates and refuses to add the email back (V1)', () => {
    const event = preTokenGenerationV1Event();
    event.response.claimsOverrideDetails = {
      claimsToAddOrOverride: { tenant: 'shire', email: 'leak@gmail.com' },
      claimsToSuppress: ['phone_number', 'email'],
      groupOverrideDetails: { groupsToOverride: ['hobbits'] },
    };
    const { response } = suppressEmailClaims(event);
    expect(response.claimsOverrideDetails).to.deep.equal({
      claimsToAddOrOverride: { tenant: 'shire' },
      claimsToSuppress: ['phone_number', 'email', 'email_verified'],
      groupOverrideDetails: { groupsToOverride: ['hobbits'] },
    });
  });

  it('keeps access-token and group overrides and refuses to add the email back to the ID token (V2_0)', () => {
    const event = preTokenGenerationV2Event({ triggerSource: 'TokenGeneration_RefreshTokens' });
    event.response.claimsAndScopeOverrideDetails = {
      idTokenGeneration: { claimsToAddOrOverride: { email_verified: 'true', role: 'reader' } },
      accessTokenGeneration: { scopesToAdd: ['notes/read'] },
      groupOverrideDetails: { groupsToOverride: ['hobbits'] },
    };
    const { response } = suppressEmailClaims(event);
    expect(response.claimsAndScopeOverrideDetails).to.deep.equal({
      idTokenGeneration: { claimsToAddOrOverride: { role: 'reader' }, claimsToSuppress: ['email', 'email_verified'] },
      accessTokenGeneration: { scopesToAdd: ['notes/read'] },
      groupOverrideDetails: { groupsToOverride: ['hobbits'] },
    });
  });

  it('handles the null response objects Cognito actually sends', () => {
    // Cognito sends `claimsOverrideDetails: null`, which the community types do not model.
    const v1 = { ...preTokenGenerationV1Event(), response: { claimsOverrideDetails: null } } as unknown as PreTokenGenerationTriggerEvent;
    expect(suppressEmailClaims(v1).response.claimsOverrideDetails.claimsToSuppress).to.deep.equal(['email', 'email_verified']);
    const v2 = { ...preTokenGenerationV2Event(), response: { claimsAndScopeOverrideDetails: null } } as unknown as PreTokenGenerationV2TriggerEvent;
    expect(suppressEmailClaims(v2).response.claimsAndScopeOverrideDetails.idTokenGeneration?.claimsToSuppress).to.deep.equal(['email', 'email_verified']);
  });

  it('picks the response shape from the version, falling back to the response object when the version is unusable', () => {
    expect(responseShape({ version: '1' })).to.equal('v1');
    expect(responseShape({ version: '2' })).to.equal('v2');
    expect(responseShape({ version: '3' })).to.equal('v2');
    expect(responseShape({ version: undefined, response: { claimsAndScopeOverrideDetails: null } })).to.equal('v2');
    expect(responseShape({ version: 'x', response: { claimsOverrideDetails: null } })).to.equal('v1');
    expect(responseShape({})).to.equal('v1');
  });

  it('leaves machine-to-machine (client credentials) events alone: they have no ID token', () => {
    const event = clientCredentialsV3Event();
    // The V3 client-credentials event is outside TokenEvent's union on purpose; this checks the guard.
    const result = suppressEmailClaims(event as unknown as PreTokenGenerationV2TriggerEvent);
    expect(result.response).to.deep.equal({ claimsAndScopeOverrideDetails: {} });
  });

  describe('the domain policy', () => {
    for (const triggerSource of SOURCES.tokenGeneration) {
      it(`refuses tokens on ${triggerSource} to an account whose address is outside the allowed domains (V1 and V2_0)`, () => {
        const userAttributes = confirmedUserAttributes({ email: 'x@evil-corp.example' });
        for (const event of [preTokenGenerationV1Event({ triggerSource, userAttributes }), preTokenGenerationV2Event({ triggerSource, userAttributes })]) {
          const error = tokenRefusal(() => enforceDomainPolicy(event, POLICY));
          expect(error.reason).to.equal('domain-not-allowed');
          expect(error.message).to.equal('Sign-in is open only to email addresses at gmail.com or icloud.com');
        }
      });

      it(`issues tokens on ${triggerSource} to an account at an allowed domain, in any case`, () => {
        expect(() => enforceDomainPolicy(preTokenGenerationV1Event({ triggerSource, userAttributes: confirmedUserAttributes({ email: 'Frodo@GMAIL.com' }) }), POLICY)).to.not.throw();
      });
    }

    it('refuses an account with no email or a malformed one, and logs the reason at WARN without the address', async () => {
      expect(tokenRefusal(() => enforceDomainPolicy(preTokenGenerationV1Event({ userAttributes: { sub: 'x' } }), POLICY)).reason).to.equal('missing');
      expect(tokenRefusal(() => enforceDomainPolicy(preTokenGenerationV1Event({ userAttributes: confirmedUserAttributes({ email: 'x@gmаil.com' }) }), POLICY)).reason).to.equal('non-ascii');
      const { lines, output } = await captureLogs(async () => {
        try {
          enforceDomainPolicy(preTokenGenerationV2Event({ userAttributes: confirmedUserAttributes({ email: 'x@evil-corp.example' }) }), POLICY);
        } catch {
          /* expected */
        }
      });
      expect(lines.find((l) => l.level === 'WARN')).to.include({ reason: 'domain-not-allowed', emailDomain: 'evil-corp.example' });
      expect(output).to.not.include('x@evil-corp.example');
    });

    it('leaves machine-to-machine tokens alone: they have no user', () => {
      const event = { ...preTokenGenerationV2Event(), triggerSource: 'TokenGeneration_ClientCredentials', request: { scopes: [] } } as unknown as PreTokenGenerationV3TriggerEvent;
      expect(() => enforceDomainPolicy(event as unknown as PreTokenGenerationV2TriggerEvent, POLICY)).to.not.throw();
    });
  });

  describe('handler', () => {
    withEnvironment({ ALLOWED_EMAIL_DOMAINS: 'gmail.com', ALLOW_SUBDOMAINS: 'false' });

    it('refuses tokens to an account outside ALLOWED_EMAIL_DOMAINS with the message Cognito shows, logging no ERROR', async () => {
      const { handler } = await import('../../functions/pre-token-generation/index.ts');
      const { logger } = await import('../../functions/common/logger.ts');
      const { lines, error } = await captureLogs(() => handler(preTokenGenerationV1Event({ userAttributes: confirmedUserAttributes({ email: 'x@icloud.com' }) })), logger);
      expect(error).to.have.property('message', 'Sign-in is open only to email addresses at gmail.com');
      expect(lines.filter((l) => l.level === 'ERROR')).to.deep.equal([]);
    });

    it('runs end to end for V1 and V2 events and logs neither the email nor the attributes', async () => {
      const { handler } = await import('../../functions/pre-token-generation/index.ts');
      const { logger } = await import('../../functions/common/logger.ts');
      const attrs = confirmedUserAttributes({ email: 'merry.brandybuck@gmail.com' });
      const { output } = await captureLogs(async () => {
        const v1 = await handler(preTokenGenerationV1Event({ userAttributes: attrs }));
        expect(v1.response.claimsOverrideDetails.claimsToSuppress).to.include('email');
        const v2 = await handler(preTokenGenerationV2Event({ userAttributes: attrs }));
        expect(v2.response.claimsAndScopeOverrideDetails.idTokenGeneration?.claimsToSuppress).to.include('email_verified');
      }, logger);
      expect(output).to.include('Email claims suppressed');
      expect(output).to.not.include('merry');
    });

    it('answers V3_0 events: a user sign-in in the V2 shape with the email suppressed, a client-credentials token unchanged and unrefused', async () => {
      const { handler } = await import('../../functions/pre-token-generation/index.ts');
      // Under V3_0 Cognito sends user sign-ins with version "3" and the V2 request and response.
      const signIn: PreTokenGenerationV2TriggerEvent = { ...preTokenGenerationV2Event({ triggerSource: 'TokenGeneration_Authentication' }), version: '3' };
      const answered = await handler(signIn);
      expect(answered.response.claimsAndScopeOverrideDetails.idTokenGeneration?.claimsToSuppress).to.deep.equal(['email', 'email_verified']);
      expect(answered.response.claimsAndScopeOverrideDetails).to.not.have.property('claimsToSuppress');
      const machine = clientCredentialsV3Event({ scopes: ['notes/read', 'notes/write'], response: { claimsAndScopeOverrideDetails: { accessTokenGeneration: { scopesToAdd: ['notes/audit'] } } } });
      // No user and no email: the domain policy has nothing to refuse, and the machine's own overrides stay.
      const result = await handler(machine as unknown as PreTokenGenerationV2TriggerEvent);
      expect(result.response).to.deep.equal({ claimsAndScopeOverrideDetails: { accessTokenGeneration: { scopesToAdd: ['notes/audit'] } } });
    });

    it('turns a broken event into the generic message', async () => {
      const { handler } = await import('../../functions/pre-token-generation/index.ts');
      const error = await handler(null as unknown as PreTokenGenerationTriggerEvent).catch((e: unknown) => e);
      expect(error).to.have.property('name', 'UserFacingError');
    });
  });
});
