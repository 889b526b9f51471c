import { expect } from 'chai';
import fc from 'fast-check';
import {
  CODE_KINDS,
  CODE_PLACEHOLDER,
  MAX_EMAIL_CHARS,
  MAX_SMS_CHARS,
  USERNAME_PLACEHOLDER,
  cleanText,
  escapeHtml,
  messageKindForSource,
  renderEmail,
  renderSms,
  truncate,
  type MessageContext,
  type MessageKind,
} from '../../../functions/common/templates.ts';
import { SOURCES } from '../../fixtures/events.ts';

const ALL_KINDS: MessageKind[] = [
  'SignUp',
  'ResendCode',
  'ForgotPassword',
  'UpdateUserAttribute',
  'VerifyUserAttribute',
  'AdminCreateUser',
  'Authentication',
  'AccountTakeOverNotification',
  'Welcome',
  'Reminder',
  'AccountDeleted',
  'AccountLocked',
];

const branding = { appName: 'Acme Notes', appUrl: 'https://notes.example.com' };

function ctx(kind: MessageKind, overrides: Partial<MessageContext> = {}): MessageContext {
  return {
    branding,
    recipient: { name: 'Frodo', email: 'frodo@gmail.com' },
    ...(CODE_KINDS.has(kind) ? { code: CODE_PLACEHOLDER } : {}),
    ...(kind === 'AdminCreateUser' ? { username: USERNAME_PLACEHOLDER } : {}),
    ...(kind === 'AccountLocked' ? { lock: { at: Date.UTC(2026, 11, 4, 1, 2, 3), until: Date.UTC(2026, 11, 4, 1, 7, 3) }, link: 'https://notes.example.com/reset-password' } : {}),
    ...overrides,
  };
}

describe('templates', () => {
  describe('messageKindForSource', () => {
    it('maps every CustomMessage_, CustomEmailSender_ and CustomSMSSender_ source to its kind', () => {
      for (const source of [...SOURCES.customMessage, ...SOURCES.customEmailSender, ...SOURCES.customSmsSender]) {
        const kind = messageKindForSource(source);
        expect(kind, source).to.equal(source.split('_')[1]);
      }
      expect(messageKindForSource('CustomEmailSender_AccountTakeOverNotification')).to.equal('AccountTakeOverNotification');
    });

    it('returns undefined for unknown, foreign or prototype-named sources', () => {
      for (const source of ['', 'CustomMessage_Unknown', 'PreSignUp_SignUp', 'CustomMessage_constructor', 'CustomMessage_toString',
        'CustomMessage_AccountTakeOverNotification', 'CustomSMSSender_AccountTakeOverNotification', 'customMessage_SignUp', 'CustomMessage_SignUp ']) {
        expect(messageKindForSource(source), source).to.equal(undefined);
      }
    });
  });

  describe('renderEmail', () => {
    for (const kind of ALL_KINDS) {
      it(`renders a ${kind} email with subject, HTML and text naming the app and greeting the user`, () => {
        const email = renderEmail(kind, ctx(kind));
        expect(email.subject).to.include('Acme Notes').and.include('Frodo');
        expect(email.html).to.match(/^<!DOCTYPE html>/).and.include('Hi Frodo,').and.include('Acme Notes');
        expect(email.text).to.include('Hi Frodo,').and.include('Acme Notes');
        if (CODE_KINDS.has(kind)) {
          expect(email.html).to.include(CODE_PLACEHOLDER);
          expect(email.text).to.include(CODE_PLACEHOLDER);
        }
      });
    }

    it('opens the magic link itself from a MagicLink email, in the button and the text, and refuses one without an http(s) link', () => {
      const link = 'https://notes.example.com/sign-in/link#token=abc';
      const email = renderEmail('MagicLink', ctx('MagicLink', { link }));
      expect(email.subject).to.equal('Frodo, your Acme Notes sign-in link');
      expect(email.html).to.include(`href="${link}"`).and.not.include('href="https://notes.example.com/"');
      expect(email.text).to.include(`Sign in to Acme Notes: ${link}`);
      expect(() => renderEmail('MagicLink', ctx('MagicLink'))).to.throw(TypeError, /link/);
      expect(() => renderEmail('MagicLink', ctx('MagicLink', { link: 'javascript:alert(1)' }))).to.throw(TypeError, /link/);
    });

    it('tells in an AccountLocked email when the lock began and ends (UTC), that the password was not changed, and links to the reset page, never the front page', () => {
      const email = renderEmail('AccountLocked', ctx('AccountLocked'));
      expect(email.subject).to.equal('Frodo, sign-in to your Acme Notes account was paused');
      expect(email.text).to.include('At 2026-12-04 01:02 UTC').and.include('until 2026-12-04 01:07 UTC').and.include('Your password was not changed.');
      expect(email.text).to.include('Reset your password: https://notes.example.com/reset-password');
      expect(email.html).to.include('href="https://notes.example.com/reset-password"').and.not.include('href="https://notes.example.com/"');
      const unlinked = renderEmail('AccountLocked', ctx('AccountLocked', { link: 'javascript:alert(1)' }));
      expect(unlinked.html).to.not.include('<a href').and.not.include('javascript:');
      expect(unlinked.text).to.include('Forgot your password?');
      expect(() => renderEmail('AccountLocked', { branding, recipient: { email: 'frodo@gmail.com' } })).to.throw(TypeError, /lock/);
      expect(renderSms('AccountLocked', ctx('AccountLocked'))).to.include('Your password was not changed.');
    });

    it('shows a passwordless sign-in code prominently in a SignInCode email and SMS', () => {
      const email = renderEmail('SignInCode', ctx('SignInCode', { code: '042917' }));
      expect(email.subject).to.equal('Frodo, your Acme Notes sign-in code');
      expect(email.text).to.include('Sign-in code: 042917');
      expect(renderSms('SignInCode', ctx('SignInCode', { code: '042917' }))).to.equal('Hi Frodo, your Acme Notes sign-in code is 042917');
    });

    it('puts the username and temporary password placeholders verbatim in the AdminCreateUser email', () => {
      const email = renderEmail('AdminCreateUser', ctx('AdminCreateUser'));
      for (const part of [email.html, email.text]) expect(part).to.include('{username}').and.include('{####}');
    });

    it('puts a real code and username in the email when a custom sender supplies them, escaped in HTML only', () => {
      const email = renderEmail('AdminCreateUser', ctx('AdminCreateUser', { code: 'a<b&"c', username: 'frodo@gmail.com' }));
      expect(email.html).to.include('a&lt;b&amp;&quot;c').and.not.include('a<b');
      expect(email.text).to.include('Temporary password: a<b&"c').and.include('Username: frodo@gmail.com');
    });

    it('refuses to render a code message without its code, or AdminCreateUser without a username', () => {
      expect(() => renderEmail('SignUp', { branding, recipient: {} })).to.throw(TypeError, /code/);
      expect(() => renderSms('ForgotPassword', { branding, recipient: {}, code: '' })).to.throw(TypeError, /code/);
      expect(() => renderEmail('AdminCreateUser', { branding, recipient: {}, code: '{####}' })).to.throw(TypeError, /username/);
    });

    it('greets without a name when there is none, and says who the message was sent to only when known', () => {
      const email = renderEmail('Welcome', { branding, recipient: {} });
      expect(email.text.startsWith('Hi,\n')).to.equal(true);
      expect(email.subject).to.equal('Welcome to Acme Notes');
      expect(email.text).to.not.include('This message was sent to');
      expect(renderEmail('Welcome', ctx('Welcome')).text).to.include('This message was sent to frodo@gmail.com.');
    });

    it('makes script and HTML injection in the name, email and app name inert', () => {
      const hostile = '<script>alert(1)</script><img src=x onerror="alert(2)">\'`&';
      const email = renderEmail('SignUp', {
        branding: { appName: `Acme<b>${hostile}`, appUrl: 'https://x.example/"><script>alert(3)</script>' },
        recipient: { name: hostile, email: `x${hostile}@gmail.com` },
        code: CODE_PLACEHOLDER,
      });
      expect(email.html).to.not.include('<script').and.not.include('<img').and.not.include('<b>').and.not.include('onerror="');
      expect(email.html).to.include('&lt;script&gt;alert(1)&lt;/script&gt;');
      expect(email.html).to.not.match(/href="[^"]*"[^>]*>\s*<script/);
    });

    it('escapes any name so that no tag or attribute break-out survives (property)', () => {
      fc.assert(
        fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (name) => {
          const { html } = renderEmail('Welcome', { branding, recipient: { name } });
          const greetingLine = /<p style="margin:0 0 16px">(Hi[^<]*)<\/p>/.exec(html);
          expect(greetingLine, 'greeting paragraph holds no markup').to.not.equal(null);
          expect(greetingLine![1]).to.not.match(/[<>"'`]/);
        }),
        { numRuns: 300 },
      );
    });

    it('strips control, line-break and bidi-override characters from the name so they cannot inject headers or reorder text', () => {
      const email = renderEmail('SignUp', ctx('SignUp', { recipient: { name: 'Eve\r\nBcc: x@evil.com\u202e\u0000\u2028' } }));
      expect(email.subject).to.not.match(/[\r\n\u202e\u0000\u2028]/);
      expect(email.html).to.not.match(/[\u202e\u0000\u2028]/);
      expect(email.subject).to.include('Eve Bcc: x@evil.com');
    });

    it('keeps every email within 20,000 characters even with huge values, and never cuts the code', () => {
      const huge = '𝒜'.repeat(50_000);
      for (const kind of ALL_KINDS) {
        const email = renderEmail(kind, ctx(kind, { branding: { appName: huge, appUrl: 'https://a.example' }, recipient: { name: huge, email: huge } }));
        expect(email.html.length, kind).to.be.at.most(MAX_EMAIL_CHARS);
        expect(email.text.length, kind).to.be.at.most(MAX_EMAIL_CHARS);
        if (CODE_KINDS.has(kind)) expect(email.html, kind).to.include(CODE_PLACEHOLDER);
      }
    });

    it('links to the app only when APP_URL is an http(s) URL', () => {
      expect(renderEmail('Welcome', ctx('Welcome')).html).to.include('href="https://notes.example.com/"');
      expect(renderEmail('Welcome', ctx('Welcome')).text).to.include('Open Acme Notes: https://notes.example.com/');
      for (const appUrl of [undefined, 'javascript:alert(1)', 'not a url']) {
        const email = renderEmail('Welcome', ctx('Welcome', { branding: { appName: 'Acme', ...(appUrl ? { appUrl } : {}) } }));
        expect(email.html).to.not.include('href=');
        expect(email.text).to.not.include('javascript:');
      }
    });
  });

  describe('renderSms', () => {
    for (const kind of ALL_KINDS) {
      it(`renders a ${kind} SMS within 140 characters with the code, even for a very long name`, () => {
        const normal = renderSms(kind, ctx(kind));
        expect(normal).to.include('Frodo');
        const long = renderSms(kind, ctx(kind, { recipient: { name: 'Bilbo '.repeat(200) } }));
        for (const sms of [normal, long]) {
          expect(sms.length).to.be.at.most(MAX_SMS_CHARS);
          if (CODE_KINDS.has(kind)) expect(sms).to.include(CODE_PLACEHOLDER);
        }
      });
    }

    it('keeps both placeholders in the AdminCreateUser SMS', () => {
      const sms = renderSms('AdminCreateUser', ctx('AdminCreateUser', { recipient: { name: 'x'.repeat(1000) } }));
      expect(sms).to.include('{username}').and.include('{####}');
    });

    it('shrinks the app name when the name alone is not enough, and never cuts a real code (property)', () => {
      fc.assert(
        fc.property(
          fc.string({ maxLength: 400 }),
          fc.string({ minLength: 1, maxLength: 200 }),
          fc.stringMatching(/^[0-9]{6,8}$/),
          fc.constantFrom(...ALL_KINDS),
          (name, appName, code, kind) => {
            const sms = renderSms(kind, { branding: { appName }, recipient: { name }, code, username: 'frodo@gmail.com' });
            expect(sms.length).to.be.at.most(MAX_SMS_CHARS);
            if (CODE_KINDS.has(kind)) expect(sms).to.include(code);
          },
        ),
        { numRuns: 500 },
      );
    });

    it('sends only the essentials when a real username and password are longer than an SMS allows', () => {
      const username = 'u'.repeat(100);
      const code = 'p'.repeat(30);
      const sms = renderSms('AdminCreateUser', { branding: { appName: 'Acme' }, recipient: {}, username, code });
      expect(sms).to.equal(`Username ${username} password ${code}`);
      expect(renderSms('SignUp', { branding: { appName: 'Acme' }, recipient: {}, code: '9'.repeat(130) })).to.equal(`Code ${'9'.repeat(130)}`);
    });
  });

  describe('helpers', () => {
    it('truncates on grapheme boundaries with an ellipsis and leaves short text alone', () => {
      expect(truncate('short', 10)).to.equal('short');
      expect(truncate('abcdefghij', 5)).to.equal('abcd…');
      const family = '👨‍👩‍👧‍👦';
      const cut = truncate(family.repeat(5), 20);
      expect(cut.endsWith('…')).to.equal(true);
      expect(cut.length).to.be.at.most(20);
      expect(cut.slice(0, -1).length % family.length).to.equal(0);
      expect(truncate('abc', 0)).to.equal('');
    });

    it('cleans text and escapes HTML', () => {
      expect(cleanText(undefined)).to.equal('');
      expect(cleanText('  a\tb\u200b\nc  ')).to.equal('a b c');
      expect(escapeHtml(`<a href="x" onclick='y'>&\``)).to.equal('&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&#96;');
    });
  });
});
