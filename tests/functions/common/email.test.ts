import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { expect } from 'chai';
import { formatFromAddress, sendEmail } from '../../../functions/common/email.ts';
import { renderEmail } from '../../../functions/common/templates.ts';

const rendered = renderEmail('Welcome', { branding: { appName: 'Acme' }, recipient: { name: 'Sam' } });

describe('email', () => {
  // Created per suite and restored after it: client mocks patch the class prototype, which other suites mock too.
  let ses: AwsClientStub<SESv2Client>;
  before(() => {
    ses = mockClient(SESv2Client);
  });
  after(() => ses.restore());
  afterEach(() => ses.reset());

  it('sends one SESv2 SendEmail with Simple content holding HTML and text bodies in UTF-8', async () => {
    ses.on(SendEmailCommand).resolves({ MessageId: 'm-1' });
    await sendEmail(new SESv2Client({ region: 'eu-west-1' }), { name: 'Acme', address: 'no-reply@acme.example' }, 'sam@gmail.com', rendered);
    const calls = ses.commandCalls(SendEmailCommand);
    expect(calls).to.have.length(1);
    expect(calls[0]!.args[0].input).to.deep.equal({
      FromEmailAddress: 'Acme <no-reply@acme.example>',
      Destination: { ToAddresses: ['sam@gmail.com'] },
      Content: {
        Simple: {
          Subject: { Data: rendered.subject, Charset: 'UTF-8' },
          Body: { Html: { Data: rendered.html, Charset: 'UTF-8' }, Text: { Data: rendered.text, Charset: 'UTF-8' } },
        },
      },
    });
  });

  it('propagates SES errors so the caller decides what a failed send means', async () => {
    ses.on(SendEmailCommand).rejects(Object.assign(new Error('Throttled'), { name: 'TooManyRequestsException' }));
    const error = await sendEmail(new SESv2Client({ region: 'eu-west-1' }), { name: 'A', address: 'a@acme.example' }, 'sam@gmail.com', rendered).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(Error).with.property('name', 'TooManyRequestsException');
  });

  it('refuses a recipient that is not one address, without calling SES', async () => {
    for (const to of ['', 'no-at-sign', 'a@b.com, c@d.com', 'a@b.com\r\nBcc: x@y.com', 'Eve <a@b.com>']) {
      const error = await sendEmail(new SESv2Client({ region: 'eu-west-1' }), { name: 'A', address: 'a@acme.example' }, to, rendered).catch((e: unknown) => e);
      expect(error, to).to.be.instanceOf(TypeError);
    }
    expect(ses.calls()).to.have.length(0);
  });

  describe('formatFromAddress', () => {
    it('uses a plain ASCII name as is and omits an empty one', () => {
      expect(formatFromAddress({ name: 'Acme Notes', address: 'a@acme.example' })).to.equal('Acme Notes <a@acme.example>');
      expect(formatFromAddress({ name: '  ', address: 'a@acme.example' })).to.equal('a@acme.example');
    });

    it('quotes a name with RFC 5322 specials and escapes quotes and backslashes', () => {
      expect(formatFromAddress({ name: 'Acme, Inc.', address: 'a@acme.example' })).to.equal('"Acme, Inc." <a@acme.example>');
      expect(formatFromAddress({ name: 'The "Best" \\ App', address: 'a@acme.example' })).to.equal('"The \\"Best\\" \\\\ App" <a@acme.example>');
    });

    it('encodes a non-ASCII name as RFC 2047 encoded words of at most 75 characters that decode back', () => {
      const name = 'Zoë’s Café 日本語 ' + 'ü'.repeat(60);
      const header = formatFromAddress({ name, address: 'a@acme.example' });
      expect(header.endsWith(' <a@acme.example>')).to.equal(true);
      const words = header.replace(' <a@acme.example>', '').split(' ');
      expect(words.length).to.be.greaterThan(1);
      let decoded = Buffer.alloc(0);
      for (const word of words) {
        expect(word.length).to.be.at.most(75);
        const m = /^=\?UTF-8\?B\?([A-Za-z0-9+/=]+)\?=$/.exec(word);
        expect(m, word).to.not.equal(null);
        // Each word must decode on its own (no UTF-8 sequence split across words).
        expect(Buffer.from(m![1]!, 'base64').toString('utf8')).to.not.include('\ufffd');
        decoded = Buffer.concat([decoded, Buffer.from(m![1]!, 'base64')]);
      }
      expect(decoded.toString('utf8')).to.equal(name);
    });

    it('drops CR/LF from the name so it cannot add a header', () => {
      expect(formatFromAddress({ name: 'Acme\r\nBcc: x@evil.com', address: 'a@acme.example' })).to.equal('"Acme Bcc: x@evil.com" <a@acme.example>');
    });
  });
});
