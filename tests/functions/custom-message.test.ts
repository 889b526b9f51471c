import type { CustomMessageTriggerEvent } from 'aws-lambda';
import { expect } from 'chai';
import { customMessage } from '../../functions/custom-message/message.ts';
import { MAX_EMAIL_CHARS, MAX_SMS_CHARS } from '../../functions/common/templates.ts';
import { EMAIL, SOURCES, confirmedUserAttributes, customMessageEvent } from '../fixtures/events.ts';
import { captureLogs } from '../fixtures/logs.ts';
import { withEnvironment } from '../fixtures/env.ts';

const deps = { branding: { appName: 'Acme Notes', appUrl: 'https://notes.example.com' } };

describe('custom-message', () => {
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

  describe('handler', () => {
    withEnvironment({ APP_NAME: 'Acme Notes', APP_URL: '' });

    it('runs end to end from configuration, and turns a broken event into the generic message', async () => {
      const { handler } = await import('../../functions/custom-message/index.ts');
      const result = await handler(customMessageEvent({ triggerSource: 'CustomMessage_ForgotPassword' }));
      expect(result.response.emailSubject).to.equal('Frodo Baggins, reset your Acme Notes password');
      expect(result.response.emailMessage).to.not.include('href=');
      const error = await handler(null as unknown as CustomMessageTriggerEvent).catch((e: unknown) => e);
      expect(error).to.have.property('name', 'UserFacingError');
    });
  });
});
