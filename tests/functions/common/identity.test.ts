import { expect } from 'chai';
import fc from 'fast-check';
import { ConfigError } from '../../../functions/common/config.ts';
import {
  EMAIL_MESSAGES,
  MAX_INPUT_LENGTH,
  checkSignUpEmail,
  createDomainPolicy,
  isDomainAllowed,
  normaliseDomain,
  parseEmailAddress,
  type AddressProblem,
} from '../../../functions/common/identity.ts';

const DEFAULT_DOMAINS = ['gmail.com', 'icloud.com', 'outlook.com'];
const strict = createDomainPolicy({ allowedDomains: DEFAULT_DOMAINS, allowSubdomains: false });
const withSubdomains = createDomainPolicy({ allowedDomains: DEFAULT_DOMAINS, allowSubdomains: true });

/** Known bypass attempts and malformed addresses, each with the reason it must be refused for. */
const BYPASS_CORPUS: [string, AddressProblem | 'domain-not-allowed'][] = [
  // Look-alike and suffix/prefix domains
  ['frodo@gmail.com.evil.com', 'domain-not-allowed'],
  ['frodo@evil-gmail.com', 'domain-not-allowed'],
  ['frodo@evilgmail.com', 'domain-not-allowed'],
  ['frodo@gmail.co', 'domain-not-allowed'],
  ['frodo@mail.gmail.com', 'domain-not-allowed'],
  ['frodo@gmail.com.evil', 'domain-not-allowed'],
  ['frodo@xn--gmil-63d.com', 'domain-not-allowed'],
  ['frodo@gmai1.com', 'domain-not-allowed'],
  // Unicode confusables and IDN
  ['frodo@gmаil.com', 'non-ascii'], // Cyrillic а
  ['frodo@gmail.сom', 'non-ascii'], // Cyrillic с
  ['frodo@ｇｍａｉｌ.com', 'non-ascii'], // full-width letters that IDNA maps to gmail.com
  ['frodo@gmail｡com', 'non-ascii'], // ideographic full stop
  ['frodo@gmail．com', 'non-ascii'], // full-width full stop
  ['frodo@gmaıl.com', 'non-ascii'], // dotless i
  ['frödo@gmail.com', 'non-ascii'],
  ['frodo@gmail.com\u200b', 'non-ascii'], // zero-width space
  ['frodo@gmail.com\u00a0', 'whitespace'], // no-break space
  // More than one address / several @
  ['a@b@gmail.com', 'at-sign'],
  ['a@evil.com@gmail.com', 'at-sign'],
  ['frodo@evil.com,frodo@gmail.com', 'at-sign'],
  ['frodo@evil.com,gmail.com', 'domain'],
  ['frodo,evil@gmail.com', 'local-part'],
  ['frodo@evil.com;x@gmail.com', 'at-sign'],
  ['frodogmail.com', 'at-sign'],
  // Quoted local parts, comments, display names, IP literals
  ['"a@b"@gmail.com', 'at-sign'],
  ['"frodo"@gmail.com', 'local-part'],
  ['"fro do"@gmail.com', 'whitespace'],
  ['frodo(comment)@gmail.com', 'local-part'],
  ['frodo@gmail.com(comment)', 'domain'],
  ['frodo@(comment)gmail.com', 'domain'],
  ['Frodo <frodo@gmail.com>', 'whitespace'],
  ['<frodo@gmail.com>', 'local-part'],
  ['frodo@[142.250.180.5]', 'domain'],
  ['frodo@142.250.180.5', 'domain'],
  // Whitespace and control characters
  ['fro do@gmail.com', 'whitespace'],
  ['frodo@gmail .com', 'whitespace'],
  ['frodo@gmail.com\tx', 'control-character'],
  ['frodo@gmail.com\n', 'control-character'],
  ['frodo@gmail.com\r\nBcc: x@evil.com', 'control-character'],
  ['frodo\u0000@gmail.com', 'control-character'],
  ['frodo@gmail.com\u0085', 'control-character'],
  // Dots and structure
  ['.frodo@gmail.com', 'local-part'],
  ['frodo.@gmail.com', 'local-part'],
  ['fro..do@gmail.com', 'local-part'],
  ['@gmail.com', 'local-part'],
  ['frodo@', 'domain'],
  ['frodo@.gmail.com', 'domain'],
  ['frodo@gmail..com', 'domain'],
  ['frodo@gmail.com..', 'domain'],
  ['frodo@-gmail.com', 'domain'],
  ['frodo@gmail-.com', 'domain'],
  ['frodo@gmail_com.com', 'domain'],
  ['frodo@com', 'domain'],
  // Lengths
  [`${'a'.repeat(65)}@gmail.com`, 'local-part'],
  [`${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}.gmail.com`, 'too-long'],
  [`frodo@${'a'.repeat(64)}.com`, 'domain'],
  [`${'a'.repeat(10_000)}@gmail.com`, 'too-long'],
  // Not an address at all
  ['', 'missing'],
  ['   ', 'missing'],
];

const ACCEPTED = [
  'frodo@gmail.com',
  'Frodo@Gmail.com',
  'FRODO@GMAIL.COM',
  'frodo@gmail.com.',
  '  frodo@gmail.com  ',
  'frodo.baggins+shire@icloud.com',
  "o'brien@outlook.com",
  'a!#$%&*+/=?^_`{|}~-z@gmail.com',
  `${'a'.repeat(64)}@gmail.com`,
];

describe('identity: email parsing and the domain rule', () => {
  describe('corpus', () => {
    for (const email of ACCEPTED) {
      it(`accepts ${JSON.stringify(email)}`, () => {
        const check = checkSignUpEmail(email, strict);
        expect(check.allowed, JSON.stringify(check)).to.equal(true);
      });
    }

    for (const [email, reason] of BYPASS_CORPUS) {
      it(`refuses ${JSON.stringify(email.length > 80 ? `${email.slice(0, 40)}…(${email.length} chars)` : email)} (${reason})`, () => {
        const check = checkSignUpEmail(email, strict);
        expect(check.allowed).to.equal(false);
        if (!check.allowed) expect(check.reason).to.equal(reason);
      });
    }

    it('normalises the domain but keeps the local part as typed', () => {
      const parsed = parseEmailAddress(' Frodo.Baggins@GMAIL.Com. ');
      expect(parsed).to.deep.equal({ ok: true, value: { local: 'Frodo.Baggins', domain: 'gmail.com', address: 'Frodo.Baggins@gmail.com' } });
    });

    it('refuses anything that is not a string, without throwing', () => {
      for (const value of [undefined, null, 42, {}, [], ['frodo@gmail.com'], true]) {
        expect(checkSignUpEmail(value, strict)).to.deep.include({ allowed: false, reason: 'missing', message: EMAIL_MESSAGES.missing });
      }
    });

    it('gives a clear message for each kind of refusal', () => {
      const refusal = (email: string) => {
        const check = checkSignUpEmail(email, strict);
        return check.allowed ? '' : check.message;
      };
      expect(refusal('a@b@gmail.com')).to.equal(EMAIL_MESSAGES.malformed);
      expect(refusal(`${'a'.repeat(300)}@gmail.com`)).to.equal(EMAIL_MESSAGES.tooLong);
      expect(refusal('frodo@evil.com')).to.equal('Sign-up is open only to email addresses at gmail.com, icloud.com or outlook.com');
      expect(checkSignUpEmail('frodo@evil.com', withSubdomains)).to.deep.include({ message: 'Sign-up is open only to email addresses at (or under) gmail.com, icloud.com or outlook.com' });
      const one = createDomainPolicy({ allowedDomains: ['acme.example'], allowSubdomains: false });
      expect(checkSignUpEmail('x@evil.com', one)).to.deep.include({ message: 'Sign-up is open only to email addresses at acme.example', domain: 'evil.com' });
      const many = createDomainPolicy({ allowedDomains: ['a.com', 'b.com', 'c.com', 'd.com', 'e.com', 'f.com'], allowSubdomains: false });
      expect(checkSignUpEmail('x@evil.com', many)).to.deep.include({ message: 'Sign-up is not open to email addresses at this domain' });
    });
  });

  describe('input length', () => {
    it('refuses input over 2,048 characters as too long before any other check, whatever it holds', () => {
      expect(MAX_INPUT_LENGTH).to.equal(2_048);
      // A control character and a non-ASCII one would each be reported first if any pattern ran before the length check.
      for (const input of [`frodo@gmail.com\n${'a'.repeat(MAX_INPUT_LENGTH)}`, `${'é'.repeat(MAX_INPUT_LENGTH)}@gmail.com`, `frodo@gmail.com${' '.repeat(MAX_INPUT_LENGTH)}`]) {
        expect(parseEmailAddress(input)).to.deep.equal({ ok: false, problem: 'too-long' });
      }
    });

    it('still trims spaces up to the limit, in one pass', () => {
      const padded = `${' '.repeat(1_000)}Frodo@Gmail.com${' '.repeat(1_000)}`;
      expect(padded.length).to.be.at.most(MAX_INPUT_LENGTH);
      expect(parseEmailAddress(padded)).to.deep.include({ ok: true });
      expect(checkSignUpEmail(padded, strict)).to.deep.include({ allowed: true });
    });
  });

  describe('subdomains', () => {
    it('matches subdomains only when allowed, and only at a label boundary', () => {
      expect(checkSignUpEmail('frodo@mail.gmail.com', strict).allowed).to.equal(false);
      expect(checkSignUpEmail('frodo@mail.gmail.com', withSubdomains).allowed).to.equal(true);
      expect(checkSignUpEmail('frodo@a.b.gmail.com', withSubdomains).allowed).to.equal(true);
      expect(checkSignUpEmail('frodo@gmail.com', withSubdomains).allowed).to.equal(true);
      expect(checkSignUpEmail('frodo@evilgmail.com', withSubdomains).allowed).to.equal(false);
      expect(checkSignUpEmail('frodo@evil-gmail.com', withSubdomains).allowed).to.equal(false);
      expect(checkSignUpEmail('frodo@gmail.com.evil.com', withSubdomains).allowed).to.equal(false);
    });
  });

  describe('properties (fast-check)', () => {
    const allowedDomain = fc.constantFrom(...DEFAULT_DOMAINS);
    const randomCase = (s: string, flips: boolean[]) => [...s].map((c, i) => (flips[i % flips.length] ? c.toUpperCase() : c)).join('');
    const local = fc.stringMatching(/^[a-z0-9][a-z0-9._+-]{0,30}[a-z0-9]$/).filter((l) => !l.includes('..'));
    const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?$/);

    it('accepts every well-formed address at an allowed domain, whatever its case and with or without one trailing dot', () => {
      fc.assert(
        fc.property(local, allowedDomain, fc.array(fc.boolean(), { minLength: 1 }), fc.boolean(), (l, d, flips, dot) => {
          const check = checkSignUpEmail(`${l}@${randomCase(d, flips)}${dot ? '.' : ''}`, strict);
          expect(check.allowed).to.equal(true);
        }),
        { numRuns: 500 },
      );
    });

    it('never allows a domain other than an exact allowed one when subdomains are off, for any input', () => {
      fc.assert(
        fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.emailAddress(), fc.string({ unit: 'grapheme', maxLength: 60 }).map((s) => `${s}@gmail.com`)), (input) => {
          const check = checkSignUpEmail(input, strict);
          if (check.allowed) expect(DEFAULT_DOMAINS).to.include(check.address.domain);
        }),
        { numRuns: 2_000 },
      );
    });

    it('refuses any allowed domain with a prefix or suffix glued on, with or without subdomains', () => {
      fc.assert(
        fc.property(local, allowedDomain, label, fc.constantFrom('', '-', '.'), fc.boolean(), (l, d, extra, joint, before) => {
          fc.pre(!(before && joint === '.'));
          const domain = before ? `${extra}${joint}${d}` : `${d}${joint}${extra}`;
          expect(checkSignUpEmail(`${l}@${domain}`, strict).allowed, domain).to.equal(false);
          expect(checkSignUpEmail(`${l}@${domain}`, withSubdomains).allowed, domain).to.equal(false);
        }),
        { numRuns: 1_000 },
      );
    });

    it('allows a subdomain exactly when the option is on', () => {
      fc.assert(
        fc.property(local, fc.array(label, { minLength: 1, maxLength: 3 }), allowedDomain, (l, labels, d) => {
          const email = `${l}@${labels.join('.')}.${d}`;
          expect(checkSignUpEmail(email, strict).allowed).to.equal(false);
          expect(checkSignUpEmail(email, withSubdomains).allowed).to.equal(true);
        }),
        { numRuns: 500 },
      );
    });

    it('refuses an allowed address once any non-ASCII, control or whitespace character is inserted anywhere', () => {
      const bad = fc.oneof(
        fc.integer({ min: 0x80, max: 0x10ffff }).filter((c) => c < 0xd800 || c > 0xdfff).map((c) => String.fromCodePoint(c)),
        fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)),
        fc.constantFrom('\u007f', ' ', '\u00a0', '\u2028', '\u3000'),
      );
      fc.assert(
        fc.property(local, allowedDomain, bad, fc.nat(), (l, d, ch, pos) => {
          const email = `${l}@${d}`;
          // Leading/trailing plain spaces are trimmed by design, so insert strictly inside.
          const at = 1 + (pos % (email.length - 1));
          const tampered = email.slice(0, at) + ch + email.slice(at);
          expect(checkSignUpEmail(tampered, withSubdomains).allowed, JSON.stringify(tampered)).to.equal(false);
        }),
        { numRuns: 2_000 },
      );
    });

    it('refuses every address longer than 254 characters', () => {
      fc.assert(
        fc.property(fc.integer({ min: 255, max: 5_000 }), allowedDomain, (length, d) => {
          const email = `${'a'.repeat(length - d.length - 1)}@${d}`;
          expect(checkSignUpEmail(email, strict)).to.deep.include({ allowed: false });
        }),
        { numRuns: 100 },
      );
    });

    it('never throws, whatever the input', () => {
      fc.assert(
        fc.property(fc.anything(), (input) => {
          checkSignUpEmail(input, withSubdomains);
        }),
        { numRuns: 1_000 },
      );
    });
  });

  describe('createDomainPolicy', () => {
    it('normalises and de-duplicates configured domains', () => {
      const policy = createDomainPolicy({ allowedDomains: [' Gmail.COM. ', 'gmail.com', 'xn--mnchen-3ya.de'], allowSubdomains: false });
      expect(policy.allowedDomains).to.deep.equal(['gmail.com', 'xn--mnchen-3ya.de']);
      expect(isDomainAllowed('xn--mnchen-3ya.de', policy)).to.equal(true);
    });

    it('fails at cold start on a domain that could never match, naming the variable', () => {
      for (const bad of ['*.gmail.com', '@gmail.com', 'gmail', 'gmаil.com', 'gmail..com', '']) {
        expect(() => createDomainPolicy({ allowedDomains: [bad], allowSubdomains: false }), bad).to.throw(ConfigError, /ALLOWED_EMAIL_DOMAINS/);
      }
      expect(() => createDomainPolicy({ allowedDomains: [], allowSubdomains: false })).to.throw(ConfigError, /at least one/);
    });

    it('normaliseDomain trims, lower-cases and drops exactly one trailing dot', () => {
      expect(normaliseDomain(' GMAIL.com. ')).to.equal('gmail.com');
      expect(normaliseDomain('gmail.com..')).to.equal('gmail.com.');
    });
  });
});
