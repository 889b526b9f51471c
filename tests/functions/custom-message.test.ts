import type { CustomMessageTriggerEvent } from 'aws-lambda';
import { expect } from 'chai';
import fc from 'fast-check';
import { customMessage } from '../../functions/custom-message/logic.ts';
import { UserFacingError } from '../../functions/common/errors.ts';
import { checkSignUpEmail, createDomainPolicy } from '../../functions/common/identity.ts';
import { MAX_EMAIL_CHARS, MAX_SMS_CHARS } from '../../functions/common/templates.ts';
import { EMAIL, SOURCES, confirmedUserAttributes, customMessageEvent } from '../fixtures/events.ts';
import { captureLogs, quietLogger } from '../fixtures/logs.ts';
import { withEnvironment } from '../fixtures/env.ts';

const policy = createDomainPolicy({ allowedDomains: ['gmail.com', 'icloud.com', 'outlook.com'], allowSubdomains: false });
const deps = { branding: { appName: 'Acme Notes', appUrl: 'https://notes.example.com' }, policy };
const OUTSIDE = 'x@evil-corp.example';

function refusal(event: CustomMessageTriggerEvent): UserFacingError {
  try {
    customMessage(event, deps);
  } catch (error) {
    expect(error).to.be.instanceOf(UserFacingError);
    return error as UserFacingError;
  }
  throw new Error('the message was composed');
}

describe('custom-message', () => {
  quietLogger();
  for (const triggerSource of SOURCES.customMessage) {
    it(`composes a personalised subject, HTML email and SMS for ${triggerSource} that keep the code placeholder`, () => {
      const result = customMessage(customMessageEvent({ triggerSource }), deps);
      const { emailSubject, emailMessage, smsMessage } = result.response;
      expect(emailSubject).to.be.a('string').and.include('Frodo').and.include('Acme Notes');
      expect(emailMessage).to.be.a('string').and.include('{####}').and.include('Hi Frodo Baggins,');
      expect(smsMessage).to.be.a('string').and.include('{####}');
      expect(emailMessage!.length).to.be.at.most(MAX_EMAIL_CHARS);
      expect(smsMessage!.length).to.be.at.most(MAX_SMS_CHARS);
    });
  }

  it('puts the {username} placeholder in both AdminCreateUser messages', () => {
    const { response } = customMessage(customMessageEvent({ triggerSource: 'CustomMessage_AdminCreateUser' }), deps);
    expect(response.emailMessage).to.include('{username}').and.include('{####}');
    expect(response.smsMessage).to.include('{username}').and.include('{####}');
  });

  it('uses the placeholders Cognito passes rather than assuming them, and falls back when they are missing', () => {
    const event = customMessageEvent({ triggerSource: 'CustomMessage_AdminCreateUser' });
    event.request.codeParameter = '{####}';
    event.request.usernameParameter = null;
    const { response } = customMessage(event, deps);
    expect(response.emailMessage).to.include('{username}');
  });

  it('escapes script injection in the name and keeps SMS within 140 characters for a very long name', () => {
    const name = `<script>alert("x")</script>${'Took '.repeat(500)}`;
    const event = customMessageEvent({ userAttributes: confirmedUserAttributes({ name }) });
    const { response } = customMessage(event, deps);
    expect(response.emailMessage).to.not.include('<script>');
    expect(response.emailMessage).to.include('&lt;script&gt;');
    expect(response.smsMessage!.length).to.be.at.most(MAX_SMS_CHARS);
    expect(response.smsMessage).to.include('{####}');
  });

  it('greets by given_name when there is no name, and without a name when there is neither', () => {
    const given = customMessage(customMessageEvent({ userAttributes: { email: EMAIL, given_name: 'Sam' } }), deps);
    expect(given.response.emailMessage).to.include('Hi Sam,');
    const none = customMessage(customMessageEvent({ userAttributes: { email: EMAIL } }), deps);
    expect(none.response.emailMessage).to.include('Hi,');
  });

  it('leaves the event unchanged and logs a warning for an unknown source', async () => {
    // Cognito may add sources; the fixture type does not know them, which is the point of the test.
    const event = { ...customMessageEvent(), triggerSource: 'CustomMessage_SomethingNew' } as unknown as CustomMessageTriggerEvent;
    const before = structuredClone(event);
    const { lines } = await captureLogs(async () => expect(customMessage(event, deps)).to.deep.equal(before));
    expect(lines.some((l) => l.level === 'WARN' && l.triggerSource === 'CustomMessage_SomethingNew')).to.equal(true);
  });

  it('still composes a message from an event without request attributes or response', () => {
    const { request: _r, response: _s, ...rest } = customMessageEvent();
    const malformed = rest as unknown as CustomMessageTriggerEvent;
    const result = customMessage(malformed, deps);
    expect(result.response.emailMessage).to.include('{####}').and.include('Hi,');
  });

  it('never logs the email address or the name', async () => {
    const { output } = await captureLogs(async () => customMessage(customMessageEvent({ userAttributes: confirmedUserAttributes({ name: 'Peregrin Took' }) }), deps));
    expect(output).to.include('Custom message composed');
    expect(output).to.not.include(EMAIL);
    expect(output).to.not.include('Peregrin');
  });

  describe('the domain policy', () => {
    for (const triggerSource of ['CustomMessage_UpdateUserAttribute', 'CustomMessage_VerifyUserAttribute'] as const) {
      it(`refuses ${triggerSource} to a new address outside the allowed domains, naming them, and composes nothing`, () => {
        const event = customMessageEvent({ triggerSource, userAttributes: confirmedUserAttributes({ email: OUTSIDE, email_verified: 'false', name: 'Buy now at evil.example' }) });
        const error = refusal(event);
        expect(error.reason).to.equal('domain-not-allowed');
        expect(error.message).to.equal('Your email address can only be changed to one at gmail.com, icloud.com or outlook.com');
        expect(event.response.emailMessage ?? null).to.equal(null);
        expect(event.response.smsMessage ?? null).to.equal(null);
      });
    }

    for (const triggerSource of SOURCES.customMessage.filter((s) => !s.endsWith('UserAttribute'))) {
      it(`refuses ${triggerSource} to an account address outside the allowed domains`, () => {
        const error = refusal(customMessageEvent({ triggerSource, userAttributes: confirmedUserAttributes({ email: OUTSIDE }) }));
        expect(error.reason).to.equal('domain-not-allowed');
        expect(error.message).to.equal('Messages can only be sent to email addresses at gmail.com, icloud.com or outlook.com');
      });
    }

    it('refuses malformed and look-alike addresses with the parser’s reason', () => {
      for (const [email, reason] of [
        ['x@gmаil.com', 'non-ascii'],
        ['x@gmail.com\nBcc: y@evil.example', 'control-character'],
        ['x@gmail.com.evil.example', 'domain-not-allowed'],
        ['', 'missing'],
      ] as const) {
        const error = refusal(customMessageEvent({ triggerSource: 'CustomMessage_UpdateUserAttribute', userAttributes: confirmedUserAttributes({ email }) }));
        expect(error.reason, JSON.stringify(email)).to.equal(reason);
      }
    });

    it('composes a text for a user without an email attribute, which reaches no address', () => {
      const { response } = customMessage(customMessageEvent({ triggerSource: 'CustomMessage_VerifyUserAttribute', userAttributes: { sub: 'x', phone_number: '+15555550123' } }), deps);
      expect(response.smsMessage).to.include('{####}');
    });

    it('logs a refusal at WARN with the domain and reason only', async () => {
      const { lines, output, error } = await captureLogs(async () =>
        customMessage(customMessageEvent({ triggerSource: 'CustomMessage_UpdateUserAttribute', userAttributes: confirmedUserAttributes({ email: OUTSIDE, name: 'Grima' }) }), deps),
      );
      expect(error).to.be.instanceOf(UserFacingError);
      const line = lines.find((l) => l.message === 'Message refused: the address is outside the domain policy');
      expect(line).to.include({ level: 'WARN', emailDomain: 'evil-corp.example', reason: 'domain-not-allowed', kind: 'UpdateUserAttribute' });
      expect(output).to.not.include(OUTSIDE).and.not.include('Grima');
    });

    it('composes a message exactly when the policy accepts the address, for every source (property)', () => {
      const email = fc.oneof(
        fc.emailAddress(),
        fc.tuple(fc.stringMatching(/^[a-z0-9.]{1,20}$/), fc.constantFrom('gmail.com', 'GMAIL.com', 'outlook.com.', 'evil.example', 'mail.gmail.com', 'gmail.co')).map(([l, d]) => `${l}@${d}`),
        fc.string({ maxLength: 40 }),
      );
      fc.assert(
        fc.property(fc.constantFrom(...SOURCES.customMessage), email, (triggerSource, address) => {
          const event = customMessageEvent({ triggerSource, userAttributes: confirmedUserAttributes({ email: address }) });
          const accepted = checkSignUpEmail(address, policy).allowed;
          let composed = true;
          try {
            customMessage(event, deps);
          } catch {
            composed = false;
          }
          expect(composed, address).to.equal(accepted);
        }),
        { numRuns: 2_000 },
      );
    });
  });

  describe('handler', () => {
    withEnvironment({ APP_NAME: 'Acme Notes', APP_URL: '', ALLOWED_EMAIL_DOMAINS: 'gmail.com', ALLOW_SUBDOMAINS: 'false' });

    it('runs end to end from configuration, and turns a broken event into the generic message', async () => {
      const { handler } = await import('../../functions/custom-message/index.ts');
      const result = await handler(customMessageEvent({ triggerSource: 'CustomMessage_ForgotPassword' }));
      expect(result.response.emailSubject).to.equal('Frodo Baggins, reset your Acme Notes password');
      expect(result.response.emailMessage).to.not.include('href=');
      const error = await handler(null as unknown as CustomMessageTriggerEvent).catch((e: unknown) => e);
      expect(error).to.have.property('name', 'UserFacingError');
    });

    it('refuses a new address outside the configured domains with the message Cognito shows, logging no ERROR', async () => {
      const { handler } = await import('../../functions/custom-message/index.ts');
      const log = await import('../../functions/common/logger.ts');
      const event = customMessageEvent({ triggerSource: 'CustomMessage_UpdateUserAttribute', userAttributes: confirmedUserAttributes({ email: 'x@icloud.com' }) });
      const { lines, error } = await captureLogs(() => handler(event), log.logger);
      expect(error).to.be.instanceOf(Error).with.property('message', 'Your email address can only be changed to one at gmail.com');
      expect(lines.filter((l) => l.level === 'ERROR')).to.deep.equal([]);
    });
  });
});
