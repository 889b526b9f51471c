import { createHash } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { expect } from 'chai';
import fc from 'fast-check';
import { checkSignUpEmail, createDomainPolicy } from '../../../functions/common/identity.ts';
import { clearLockout, lockoutKey, lockoutLogin, normaliseLogin, parseLockoutState } from '../../../functions/common/lockout.ts';

/** `Kate@gmail.com` with its K written as U+212A KELVIN SIGN, which JavaScript lower-cases (and NFKC maps) to ASCII `k`. */
const KELVIN_KATE = '\u212Aate@gmail.com';

describe('lockout state (shared)', () => {
  it('normalises a login by trimming ASCII whitespace and lower-casing ASCII letters only', () => {
    expect(normaliseLogin('  Frodo.Baggins@GMAIL.com\t')).to.equal('frodo.baggins@gmail.com');
    expect(normaliseLogin('ÉOWYN@rohan.example')).to.equal('Éowyn@rohan.example');
    expect(normaliseLogin(KELVIN_KATE)).to.equal(KELVIN_KATE);
    expect(normaliseLogin('\u3000kate@gmail.com')).to.equal('\u3000kate@gmail.com');
  });

  it('keys a login written with the Kelvin sign apart from the ASCII login it lower-cases to', () => {
    expect(KELVIN_KATE.toLowerCase()).to.equal('kate@gmail.com');
    expect(KELVIN_KATE.normalize('NFKC').toLowerCase()).to.equal('kate@gmail.com');
    expect(lockoutKey(KELVIN_KATE).pk).to.not.equal(lockoutKey('kate@gmail.com').pk);
    expect(lockoutKey(KELVIN_KATE).pk).to.equal(`LOCKOUT#sha256:${createHash('sha256').update(KELVIN_KATE).digest('hex')}`);
    expect(lockoutLogin({ userName: 'uuid', email: KELVIN_KATE })).to.not.equal(lockoutLogin({ userName: 'uuid', email: 'kate@gmail.com' }));
  });

  it('never lets a plain login share the key of a hashed one', () => {
    const hashed = lockoutKey(`${'a'.repeat(300)}@gmail.com`).pk;
    const typed = hashed.slice('LOCKOUT#'.length);
    expect(lockoutKey(typed).pk).to.not.equal(hashed);
    expect(lockoutKey(typed).pk).to.match(/^LOCKOUT#sha256:[0-9a-f]{64}$/);
  });

  it('gives no two distinct addresses the domain policy accepts the same key (property)', () => {
    const policy = createDomainPolicy({ allowedDomains: ['gmail.com', 'acme.example'], allowSubdomains: true });
    // Local parts built from the whole atext alphabet plus characters that Unicode maps onto it, so the generator reaches the collisions a looser normalisation would allow.
    const char = fc.constantFrom(...'abcKkSsIi09.+_-!#$%&*/=?^`{|}~\'', '\u212A', '\u017F', '\u0130', '\u0131', 'ｋ', 'K');
    const address = fc
      .tuple(fc.array(char, { minLength: 1, maxLength: 12 }), fc.constantFrom('gmail.com', 'GMAIL.com', 'eu.acme.example', 'acme.example', 'acme.example.', 'evil.example'))
      .map(([local, domain]) => `${local.join('')}@${domain}`);
    let pairs = 0;
    fc.assert(
      fc.property(address, address, (a, b) => {
        const ca = checkSignUpEmail(a, policy);
        const cb = checkSignUpEmail(b, policy);
        if (!ca.allowed || !cb.allowed) return;
        pairs++;
        // The pool's usernames are case-insensitive, so addresses equal but for case (all ASCII here) are one account.
        const sameAccount = a.trim().toLowerCase() === b.trim().toLowerCase();
        expect(lockoutKey(a).pk === lockoutKey(b).pk, `${a} / ${b}`).to.equal(sameAccount);
      }),
      { numRuns: 10_000 },
    );
    expect(pairs, 'pairs of accepted addresses checked').to.be.greaterThan(500);
  });

  it('shares a key between two logins only when their normalised forms are equal (property)', () => {
    const login = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 20 }), fc.constantFrom(KELVIN_KATE, 'kate@gmail.com', 'KATE@gmail.com', ' kate@gmail.com'));
    fc.assert(
      fc.property(login, login, (a, b) => {
        expect(lockoutKey(a).pk === lockoutKey(b).pk).to.equal(normaliseLogin(a) === normaliseLogin(b));
      }),
      { numRuns: 5_000 },
    );
  });

  it('keys a login by its normalised form, and by its hash beyond 256 characters', () => {
    expect(lockoutKey(' Sam@Gmail.com ')).to.deep.equal({ pk: 'LOCKOUT#sam@gmail.com', sk: 'STATE' });
    const at256 = `${'a'.repeat(246)}@gmail.com`;
    expect(lockoutKey(at256).pk).to.equal(`LOCKOUT#${at256}`);
    const at257 = `a${at256}`;
    expect(lockoutKey(at257).pk).to.equal(`LOCKOUT#sha256:${createHash('sha256').update(at257).digest('hex')}`);
  });

  it('gives every login a key DynamoDB accepts and the same key for every spelling of one login (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 3000 }), (login) => {
        const { pk } = lockoutKey(login);
        expect(Buffer.byteLength(pk, 'utf8')).to.be.at.most(2048);
        expect(lockoutKey(` ${login.toUpperCase()} `).pk).to.equal(lockoutKey(login.toUpperCase()).pk);
      }),
    );
  });

  it('counts a real user by email, a user without email by username, and an unknown user by what was typed', () => {
    expect(lockoutLogin({ userName: 'uuid-1', email: ' Frodo@Gmail.com' })).to.equal('frodo@gmail.com');
    expect(lockoutLogin({ userName: 'Legacy-Name', email: '   ' })).to.equal('legacy-name');
    expect(lockoutLogin({ userName: 'Legacy-Name' })).to.equal('legacy-name');
    expect(lockoutLogin({ userName: ' Typed@Gmail.com', email: 'ignored@gmail.com', userNotFound: true })).to.equal('typed@gmail.com');
  });

  it('reads state from document-client items and from the attribute-value form of a failed condition', () => {
    const expected = { attempts: 3, windowStart: 1000, lockedUntil: 0, lockCount: 1, total: 7, refused: 4, expiresAt: 99 };
    expect(parseLockoutState({ pk: 'LOCKOUT#x', sk: 'STATE', ...expected })).to.deep.equal(expected);
    const wire = Object.fromEntries(Object.entries(expected).map(([k, v]) => [k, { N: String(v) }]));
    expect(parseLockoutState({ pk: { S: 'LOCKOUT#x' }, ...wire })).to.deep.equal(expected);
    expect(parseLockoutState({ attempts: 1, windowStart: 5 })).to.deep.equal({ attempts: 1, windowStart: 5, lockedUntil: 0, lockCount: 0, total: 0, refused: 0, expiresAt: 0 });
  });

  it('reads the attempt ids from document-client items (Set, string) and from the attribute-value form (SS, S)', () => {
    const counters = { attempts: 2, windowStart: 1000, lockedUntil: 0, lockCount: 0, total: 9, refused: 7, expiresAt: 99 };
    const ids = { attemptIds: new Set(['a1', 'a2']), previousIds: new Set(['p1']), lockedBy: 'l1', lastRefusedId: 'r1' };
    expect(parseLockoutState({ pk: 'LOCKOUT#x', sk: 'STATE', ...counters, ...ids })).to.deep.equal({ ...counters, ...ids });
    const wire = {
      ...Object.fromEntries(Object.entries(counters).map(([k, v]) => [k, { N: String(v) }])),
      attemptIds: { SS: ['a1', 'a2'] },
      previousIds: { SS: ['p1'] },
      lockedBy: { S: 'l1' },
      lastRefusedId: { S: 'r1' },
    };
    expect(parseLockoutState({ pk: { S: 'LOCKOUT#x' }, ...wire })).to.deep.equal({ ...counters, ...ids });
  });

  it('leaves out id fields that are missing, empty or of the wrong type, as DynamoDB would store them', () => {
    const counters = { attempts: 1, windowStart: 5 };
    const parsed = parseLockoutState({ ...counters, attemptIds: new Set(), previousIds: { SS: [] }, lockedBy: 7, lastRefusedId: { N: '1' } });
    expect(parsed).to.deep.equal({ ...counters, lockedUntil: 0, lockCount: 0, total: 0, refused: 0, expiresAt: 0 });
    expect(parseLockoutState({ ...counters, attemptIds: ['a1'], previousIds: { SS: ['p1', 3] } })).to.deep.include({ previousIds: new Set(['p1']) }).and.not.have.property('attemptIds');
  });

  it('treats anything that is not an attempt-state item as no state', () => {
    for (const item of [undefined, null, 'text', 42, {}, { attempts: 1 }, { windowStart: 5 }, { attempts: { S: '1' }, windowStart: 5 }, { attempts: null, windowStart: 5 }]) {
      expect(parseLockoutState(item), JSON.stringify(item)).to.equal(undefined);
    }
  });

  describe('clearLockout', () => {
    let ddb: AwsClientStub<DynamoDBDocumentClient>;
    before(() => {
      ddb = mockClient(DynamoDBDocumentClient);
    });
    after(() => ddb.restore());
    beforeEach(() => ddb.reset());
    const db = () => DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' }));

    it('deletes the item in one request and returns what it held', async () => {
      ddb.on(DeleteCommand).resolves({ Attributes: { pk: 'LOCKOUT#sam@gmail.com', sk: 'STATE', attempts: 2, windowStart: 10 } });
      expect(await clearLockout(db(), 'users', 'SAM@gmail.com')).to.deep.include({ attempts: 2, windowStart: 10 });
      expect(ddb.commandCalls(DeleteCommand)[0]!.args[0].input).to.deep.equal({ TableName: 'users', Key: { pk: 'LOCKOUT#sam@gmail.com', sk: 'STATE' }, ReturnValues: 'ALL_OLD' });
    });

    it('returns undefined when there was nothing to clear', async () => {
      ddb.on(DeleteCommand).resolves({});
      expect(await clearLockout(db(), 'users', 'sam@gmail.com')).to.equal(undefined);
    });
  });
});
