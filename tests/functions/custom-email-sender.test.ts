/**
 * The custom email sender: every CustomEmailSender_* source decrypted (real Encryption SDK messages) and
 * rendered from the shared templates, refusal of other pools' codes, exactly-once delivery across
 * Lambda retries, throwing on every failure, and logs free of codes, addresses and keys.
 */
import { randomBytes } from 'node:crypto';
import type { CustomEmailSenderTriggerEvent } from 'aws-lambda';
import { IdempotencyAlreadyInProgressError } from '@aws-lambda-powertools/idempotency';
import { expect } from 'chai';
import sinon from 'sinon';
import fc from 'fast-check';
import { codeDecryptor, CodeDecryptionError } from '../../functions/common/code-decryption.ts';
import { checkSignUpEmail, createDomainPolicy } from '../../functions/common/identity.ts';
import type { OutgoingEmail } from '../../functions/common/providers/sendgrid.ts';
import { deliverCustomMessage, idempotencyKey, idempotentSender, UndeliverableError, type SenderDeps } from '../../functions/common/sender.ts';
import { renderEmail, type RenderedEmail } from '../../functions/common/templates.ts';
import { emailChannel } from '../../functions/custom-email-sender/logic.ts';
import { accountTakeOverEvent, confirmedUserAttributes, customEmailSenderEvent, EMAIL, lambdaContext, NAME, POOL_ID, SOURCES, SUB } from '../fixtures/events.ts';
import { encryptCode, MemoryPersistence, rawKeyring } from '../fixtures/senders.ts';
import { rejection } from '../fixtures/promises.ts';
import { captureLogs, quietLogger } from '../fixtures/logs.ts';

const BRANDING = { appName: 'Middle-earth Mail', appUrl: 'https://example.com' };
const FROM = { address: 'no-reply@example.com', name: 'Middle-earth Mail' };
const POLICY = createDomainPolicy({ allowedDomains: ['gmail.com', 'icloud.com', 'outlook.com'], allowSubdomains: false });
const OUTSIDE = 'x@evil-corp.example';
const key = randomBytes(32);
const encrypt = (code: string, poolId = POOL_ID) => encryptCode(rawKeyring(key), code, { 'userpool-id': poolId });

function setup(send: (email: OutgoingEmail) => Promise<void> = async () => undefined) {
  const sendStub = sinon.stub<[OutgoingEmail], Promise<void>>().callsFake(send);
  const decrypt = sinon.spy(codeDecryptor(rawKeyring(key)));
  const deps: SenderDeps<RenderedEmail> = { channel: emailChannel(FROM, sendStub, POLICY), decrypt, branding: BRANDING };
  const persistence = new MemoryPersistence();
  return { sendStub, decrypt, deps, persistence, sender: idempotentSender(deps, { persistenceStore: persistence }) };
}


describe('custom email sender', () => {
  quietLogger();

  describe('every code source', () => {
    for (const source of SOURCES.customEmailSender) {
      it(`${source}: decrypts the code and emails the shared template to the user`, async () => {
        const { sendStub, deps } = setup();
        const event = customEmailSenderEvent({ triggerSource: source, code: await encrypt('482913') });
        const result = await deliverCustomMessage(event, deps);
        const kind = source.replace('CustomEmailSender_', '') as Parameters<typeof renderEmail>[0];
        expect(result).to.deep.equal({ delivered: true, channel: 'email', kind });
        expect(sendStub.calledOnce).to.equal(true);
        const sent = sendStub.firstCall.args[0];
        expect(sent.to).to.equal(EMAIL);
        expect(sent.from).to.deep.equal(FROM);
        expect(sent.text).to.include('482913');
        expect(sent.html).to.include('482913');
        expect({ subject: sent.subject, html: sent.html, text: sent.text }).to.deep.equal(
          renderEmail(kind, { branding: BRANDING, recipient: { name: NAME, email: EMAIL }, code: '482913', username: EMAIL }),
        );
      });
    }
  });

  describe('temporary passwords (AdminCreateUser)', () => {
    it('unescapes the HTML-escaped password so the user can type what they read', async () => {
      const { sendStub, deps } = setup();
      const event = customEmailSenderEvent({ triggerSource: 'CustomEmailSender_AdminCreateUser', code: await encrypt('P&amp;ss&lt;w0rd&gt;') });
      await deliverCustomMessage(event, deps);
      const sent = sendStub.firstCall.args[0];
      expect(sent.text).to.include('P&ss<w0rd>');
      // The template escapes it once for HTML, which a mail client shows as the real password.
      expect(sent.html).to.include('P&amp;ss&lt;w0rd&gt;');
      expect(sent.html).not.to.include('&amp;amp;');
    });

    it('shows the email as the username when Cognito names the user by sub', async () => {
      const { sendStub, deps } = setup();
      await deliverCustomMessage(customEmailSenderEvent({ triggerSource: 'CustomEmailSender_AdminCreateUser', code: await encrypt('Tmp1!') }), deps);
      expect(sendStub.firstCall.args[0].text).to.include(`Username: ${EMAIL}`);
    });

    it('shows a chosen username as it is', async () => {
      const { sendStub, deps } = setup();
      const event = customEmailSenderEvent({ triggerSource: 'CustomEmailSender_AdminCreateUser', userName: 'frodo', code: await encrypt('Tmp1!') });
      await deliverCustomMessage(event, deps);
      expect(sendStub.firstCall.args[0].text).to.include('Username: frodo');
    });

    it('does not unescape codes of other sources', async () => {
      const { sendStub, deps } = setup();
      await deliverCustomMessage(customEmailSenderEvent({ code: await encrypt('12&amp;34') }), deps);
      expect(sendStub.firstCall.args[0].text).to.include('12&amp;34');
    });
  });

  describe('account-takeover notification', () => {
    it('sends the notice without a code and without calling KMS', async () => {
      const { sendStub, decrypt, deps } = setup();
      const event = { ...accountTakeOverEvent(), request: { ...accountTakeOverEvent().request, userAttributes: { ...accountTakeOverEvent().request.userAttributes, email: EMAIL } } };
      const result = await deliverCustomMessage(event, deps);
      expect(result.kind).to.equal('AccountTakeOverNotification');
      expect(decrypt.called).to.equal(false);
      expect(sendStub.firstCall.args[0].to).to.equal(EMAIL);
      expect(sendStub.firstCall.args[0].subject).to.match(/unusual sign-in/i);
    });

    it('is keyed on the EVENT_ID, so two notices are two emails and a retry is one', async () => {
      const first = accountTakeOverEvent();
      const second = { ...first, request: { ...first.request, userAttributes: { ...first.request.userAttributes, EVENT_ID: 'another-event' } } };
      expect(idempotencyKey(first)).to.equal(idempotencyKey(structuredClone(first)));
      expect(idempotencyKey(first)).not.to.equal(idempotencyKey(second));
    });
  });

  describe('refusals (each throws and sends nothing)', () => {
    it('refuses a code encrypted for another pool', async () => {
      const { sendStub, deps } = setup();
      const error = await rejection(deliverCustomMessage(customEmailSenderEvent({ code: await encrypt('111111', 'eu-west-1_OtherPool') }), deps));
      expect(error).to.be.instanceOf(CodeDecryptionError).and.to.have.property('reason', 'wrong-pool');
      expect(sendStub.called).to.equal(false);
    });

    it('refuses a code event without a code', async () => {
      const { sendStub, deps } = setup();
      expect(await rejection(deliverCustomMessage(customEmailSenderEvent({ code: null }), deps))).to.be.instanceOf(UndeliverableError);
      expect(sendStub.called).to.equal(false);
    });

    it('refuses a user without an email address', async () => {
      const { sendStub, deps } = setup();
      const event = customEmailSenderEvent({ code: await encrypt('111111'), userAttributes: { sub: SUB, phone_number: '+447700900123' } });
      expect(await rejection(deliverCustomMessage(event, deps))).to.be.instanceOf(UndeliverableError).and.to.have.property('message').that.matches(/email address/);
      expect(sendStub.called).to.equal(false);
    });

    it('refuses a source it has no template for', async () => {
      const { deps } = setup();
      const event = { ...customEmailSenderEvent(), triggerSource: 'CustomEmailSender_Unheard' } as unknown as CustomEmailSenderTriggerEvent;
      expect(await rejection(deliverCustomMessage(event, deps))).to.be.instanceOf(UndeliverableError);
    });

    it('refuses an SMS source', async () => {
      const { deps } = setup();
      const event = { ...customEmailSenderEvent(), triggerSource: 'CustomSMSSender_SignUp' } as unknown as CustomEmailSenderTriggerEvent;
      expect(await rejection(deliverCustomMessage(event, deps))).to.be.instanceOf(UndeliverableError);
    });

    for (const [label, mutate] of [
      ['not an object', () => null],
      ['without request', (e: Record<string, unknown>) => ({ ...e, request: undefined })],
      ['with userAttributes of the wrong type', (e: Record<string, unknown>) => ({ ...e, request: { code: 'x', userAttributes: 'email' } })],
      ['without userPoolId', (e: Record<string, unknown>) => ({ ...e, userPoolId: 42 })],
      ['with a userName that is not a string', (e: Record<string, unknown>) => ({ ...e, userName: 7 })],
    ] as const) {
      it(`refuses a malformed event (${label}) with a clear error`, async () => {
        const { sendStub, sender } = setup();
        const event = mutate(customEmailSenderEvent() as unknown as Record<string, unknown>) as unknown as CustomEmailSenderTriggerEvent;
        expect(await rejection(sender(event))).to.be.instanceOf(UndeliverableError);
        expect(sendStub.called).to.equal(false);
      });
    }
  });

  describe('the domain policy (a refusal is final: nothing decrypted, sent or retried)', () => {
    for (const source of SOURCES.customEmailSender) {
      it(`${source}: never delivers to an address outside the allowed domains, and returns instead of throwing`, async () => {
        const { sendStub, decrypt, sender, persistence } = setup();
        const event = customEmailSenderEvent({ triggerSource: source, code: await encrypt('482913'), userAttributes: confirmedUserAttributes({ email: OUTSIDE, email_verified: 'false' }) });
        const kind = source.replace('CustomEmailSender_', '');
        expect(await sender(event, lambdaContext())).to.deep.equal({ delivered: false, channel: 'email', kind, refused: 'domain-not-allowed' });
        expect(await deliverCustomMessage(event, setup().deps)).to.deep.include({ delivered: false, refused: 'domain-not-allowed' });
        expect(sendStub.called, 'sent').to.equal(false);
        expect(decrypt.called, 'decrypted').to.equal(false);
        expect(persistence.records.size, 'idempotency records').to.equal(0);
      });
    }

    it('refuses an account-takeover notice to an address outside the policy too', async () => {
      const { sendStub, sender } = setup();
      const notice = accountTakeOverEvent();
      const event = { ...notice, request: { ...notice.request, userAttributes: { ...notice.request.userAttributes, email: OUTSIDE } } };
      expect(await sender(event, lambdaContext())).to.deep.include({ delivered: false, kind: 'AccountTakeOverNotification' });
      expect(sendStub.called).to.equal(false);
    });

    it('refuses look-alike and malformed addresses with the parser’s reason', async () => {
      for (const [email, reason] of [['x@gmаil.com', 'non-ascii'], ['x@gmail.com\r\nBcc: y@evil.example', 'control-character'], ['x@gmail.com.evil.example', 'domain-not-allowed']] as const) {
        const { sendStub, sender } = setup();
        const event = customEmailSenderEvent({ triggerSource: 'CustomEmailSender_UpdateUserAttribute', code: await encrypt('1'), userAttributes: confirmedUserAttributes({ email }) });
        expect(await sender(event, lambdaContext()), JSON.stringify(email)).to.deep.include({ delivered: false, refused: reason });
        expect(sendStub.called).to.equal(false);
      }
    });

    it('logs the refusal at WARN with the user’s fingerprint and the domain, never the address, and no ERROR', async () => {
      const { sender } = setup();
      const event = customEmailSenderEvent({ triggerSource: 'CustomEmailSender_UpdateUserAttribute', code: await encrypt('482913'), userAttributes: confirmedUserAttributes({ email: OUTSIDE }) });
      const { lines, output } = await captureLogs(() => sender(event, lambdaContext()));
      const line = lines.find((l) => String(l.message).startsWith('Message not delivered: the email address is outside the domain policy'));
      expect(line).to.include({ level: 'WARN', emailDomain: 'evil-corp.example', reason: 'domain-not-allowed', channel: 'email', kind: 'UpdateUserAttribute' });
      expect(line!.user).to.match(/^[0-9a-f]{16}$/);
      expect(lines.filter((l) => l.level === 'ERROR')).to.deep.equal([]);
      expect(output).to.not.include(OUTSIDE).and.not.include('482913');
    });

    it('delivers exactly when the policy accepts the address, for every source (property)', async () => {
      const code = await encrypt('482913');
      const email = fc.oneof(
        fc.emailAddress(),
        fc.tuple(fc.stringMatching(/^[a-z0-9.]{1,20}$/), fc.constantFrom('gmail.com', 'ICLOUD.com', 'outlook.com.', 'evil.example', 'mail.gmail.com')).map(([l, d]) => `${l}@${d}`),
      );
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...SOURCES.customEmailSender), email, async (triggerSource, address) => {
          const { sendStub, deps } = setup();
          const result = await deliverCustomMessage(customEmailSenderEvent({ triggerSource, code, userAttributes: confirmedUserAttributes({ email: address }) }), deps);
          const accepted = checkSignUpEmail(address, POLICY).allowed;
          expect(result.delivered, address).to.equal(accepted);
          expect(sendStub.called).to.equal(accepted);
        }),
        { numRuns: 200 },
      );
    });
  });

  describe('retries and idempotency', () => {
    it('delivers once when Lambda replays the same event three times', async () => {
      const { sendStub, sender } = setup();
      const event = customEmailSenderEvent({ code: await encrypt('246810') });
      const results = [await sender(event, lambdaContext()), await sender(structuredClone(event), lambdaContext()), await sender(structuredClone(event), lambdaContext())];
      expect(sendStub.callCount).to.equal(1);
      expect(results[1]).to.deep.equal(results[0]);
      expect(results[2]).to.deep.equal(results[0]);
    });

    it('sends each fresh code (a resend is a new ciphertext)', async () => {
      const { sendStub, sender } = setup();
      await sender(customEmailSenderEvent({ code: await encrypt('111111') }), lambdaContext());
      await sender(customEmailSenderEvent({ triggerSource: 'CustomEmailSender_ResendCode', code: await encrypt('222222') }), lambdaContext());
      expect(sendStub.callCount).to.equal(2);
    });

    it('throws when SendGrid fails, then the retry delivers exactly once', async () => {
      let calls = 0;
      const { sendStub, sender } = setup(async () => {
        calls += 1;
        if (calls === 1) throw new Error('HTTP 503');
      });
      const event = customEmailSenderEvent({ code: await encrypt('135790') });
      expect(await rejection(sender(event, lambdaContext()))).to.have.property('message', 'HTTP 503');
      await sender(event, lambdaContext());
      await sender(event, lambdaContext());
      expect(sendStub.callCount).to.equal(2);
      expect(calls).to.equal(2);
    });

    it('throws for a duplicate that arrives while the first is still sending, so Lambda retries it later', async () => {
      let release!: () => void;
      let sending!: () => void;
      const started = new Promise<void>((resolve) => (sending = resolve));
      const { sendStub, sender } = setup(() => {
        sending();
        return new Promise<void>((resolve) => (release = resolve));
      });
      const event = customEmailSenderEvent({ code: await encrypt('975310') });
      const first = sender(event, lambdaContext());
      await started;
      const duplicate = await rejection(sender(structuredClone(event), lambdaContext()));
      release();
      await first;
      expect(duplicate).to.be.instanceOf(IdempotencyAlreadyInProgressError);
      expect(sendStub.callCount).to.equal(1);
    });

    it('throws without sending when the idempotency table is unavailable', async () => {
      const { sendStub, sender, persistence } = setup();
      persistence.failNextPut = Object.assign(new Error('connect ETIMEDOUT'), { name: 'TimeoutError' });
      const error = await rejection(sender(customEmailSenderEvent({ code: await encrypt('112233') }), lambdaContext()));
      expect(error).to.be.instanceOf(Error);
      expect(sendStub.called).to.equal(false);
    });

    it('keys on the ciphertext, source, pool and user, never storing the code', async () => {
      const { sender, persistence } = setup();
      const code = await encrypt('445566');
      await sender(customEmailSenderEvent({ code }), lambdaContext());
      const stored = JSON.stringify([...persistence.records.entries()]);
      expect(stored).not.to.include(code.slice(0, 24));
      expect(stored).not.to.include('445566');
      expect(stored).not.to.include(EMAIL);
    });
  });

  describe('logs', () => {
    it('never contain the code, the ciphertext, the address or the name, on success or failure', async () => {
      const code = await encrypt('908172');
      const good = setup();
      const ok = await captureLogs(() => good.sender(customEmailSenderEvent({ code }), lambdaContext()));
      const failing = setup(async () => {
        throw new Error(`SendGrid refused ${EMAIL} for code 908172`);
      });
      const code2 = await encrypt('908172');
      const foreign = await encrypt('908172', 'eu-west-1_OtherPool');
      const failed = await captureLogs(() => failing.sender(customEmailSenderEvent({ code: code2 }), lambdaContext()));
      const wrongPool = await captureLogs(() => setup().sender(customEmailSenderEvent({ code: foreign }), lambdaContext()));
      expect(ok.error).to.equal(undefined);
      expect(failed.error).to.be.instanceOf(Error);
      expect(wrongPool.error).to.be.instanceOf(CodeDecryptionError);
      const logs = ok.output + failed.output + wrongPool.output;
      expect(logs).to.include('Message delivered');
      expect(logs).to.include('Message not delivered');
      for (const secret of ['908172', code.slice(0, 16), EMAIL, 'frodo.baggins', NAME]) expect(logs).not.to.include(secret);
    });
  });

  it('builds fixtures that are real Cognito custom email sender events', () => {
    const event = customEmailSenderEvent({ userAttributes: confirmedUserAttributes() }) satisfies CustomEmailSenderTriggerEvent;
    expect(event.request.type).to.equal('customEmailSenderRequestV1');
  });
});
