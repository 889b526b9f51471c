/**
 * The custom SMS sender: every CustomSMSSender_* source decrypted and rendered from the shared templates,
 * E.164 recipients only, no text for an account outside the domain policy, exactly-once delivery across
 * retries, and logs free of the number and the code.
 */
import { randomBytes } from 'node:crypto';
import type { CustomSMSSenderTriggerEvent } from 'aws-lambda';
import { expect } from 'chai';
import sinon from 'sinon';
import { codeDecryptor, CodeDecryptionError } from '../../functions/common/code-decryption.ts';
import { createDomainPolicy } from '../../functions/common/identity.ts';
import { deliverCustomMessage, idempotentSender, UndeliverableError, type SenderDeps } from '../../functions/common/sender.ts';
import { MAX_SMS_CHARS, renderSms } from '../../functions/common/templates.ts';
import { smsChannel } from '../../functions/custom-sms-sender/logic.ts';
import { confirmedUserAttributes, customSmsSenderEvent, lambdaContext, NAME, POOL_ID, SOURCES, SUB } from '../fixtures/events.ts';
import { encryptCode, MemoryPersistence, rawKeyring } from '../fixtures/senders.ts';
import { rejection } from '../fixtures/promises.ts';
import { captureLogs, quietLogger } from '../fixtures/logs.ts';

const BRANDING = { appName: 'Middle-earth Mail' };
const PHONE = '+447700900123';
const POLICY = createDomainPolicy({ allowedDomains: ['gmail.com', 'icloud.com', 'outlook.com'], allowSubdomains: false });
const key = randomBytes(32);
const encrypt = (code: string, poolId = POOL_ID) => encryptCode(rawKeyring(key), code, { 'userpool-id': poolId });

function setup(send: (sms: { to: string; body: string }) => Promise<void> = async () => undefined) {
  const sendStub = sinon.stub<[{ to: string; body: string }], Promise<void>>().callsFake(send);
  const decrypt = sinon.spy(codeDecryptor(rawKeyring(key)));
  const deps: SenderDeps<string> = { channel: smsChannel(sendStub, POLICY), decrypt, branding: BRANDING };
  const persistence = new MemoryPersistence();
  return { sendStub, decrypt, deps, persistence, sender: idempotentSender(deps, { persistenceStore: persistence }) };
}


describe('custom SMS sender', () => {
  quietLogger();

  for (const source of SOURCES.customSmsSender) {
    it(`${source}: decrypts the code and texts the shared template, within ${MAX_SMS_CHARS} characters`, async () => {
      const { sendStub, deps } = setup();
      const result = await deliverCustomMessage(customSmsSenderEvent({ triggerSource: source, code: await encrypt('731902') }), deps);
      const kind = source.replace('CustomSMSSender_', '') as Parameters<typeof renderSms>[0];
      expect(result).to.deep.equal({ delivered: true, channel: 'sms', kind });
      const sent = sendStub.firstCall.args[0];
      expect(sent.to).to.equal(PHONE);
      expect(sent.body).to.include('731902');
      expect(sent.body.length).to.be.at.most(MAX_SMS_CHARS);
      expect(sent.body).to.equal(renderSms(kind, { branding: BRANDING, recipient: { name: NAME, email: 'frodo.baggins@gmail.com' }, code: '731902', username: 'frodo.baggins@gmail.com' }));
    });
  }

  it('unescapes an AdminCreateUser temporary password', async () => {
    const { sendStub, deps } = setup();
    await deliverCustomMessage(customSmsSenderEvent({ triggerSource: 'CustomSMSSender_AdminCreateUser', code: await encrypt('a&amp;b&quot;c') }), deps);
    expect(sendStub.firstCall.args[0].body).to.include('a&b"c');
  });

  it('shows the phone number as the username when the phone is the sign-in name', async () => {
    const { sendStub, deps } = setup();
    const event = customSmsSenderEvent({ triggerSource: 'CustomSMSSender_AdminCreateUser', code: await encrypt('Tmp1!'), userAttributes: { sub: SUB, phone_number: PHONE } });
    await deliverCustomMessage(event, deps);
    expect(sendStub.firstCall.args[0].body).to.include(`username is ${PHONE}`);
  });

  for (const phone of [undefined, '', '07700900123', '+44 7700 900123', '+0123456789']) {
    it(`refuses a user whose phone number is ${JSON.stringify(phone)} (not E.164)`, async () => {
      const { sendStub, deps } = setup();
      const attributes = confirmedUserAttributes(phone === undefined ? {} : { phone_number: phone });
      const error = await rejection(deliverCustomMessage(customSmsSenderEvent({ code: await encrypt('111111'), userAttributes: attributes }), deps));
      expect(error).to.be.instanceOf(UndeliverableError).and.to.have.property('message').that.matches(/phone number/);
      expect(sendStub.called).to.equal(false);
    });
  }

  it('refuses a code encrypted for another pool and sends nothing', async () => {
    const { sendStub, sender } = setup();
    const error = await rejection(sender(customSmsSenderEvent({ code: await encrypt('111111', 'eu-west-1_OtherPool') }), lambdaContext()));
    expect(error).to.be.instanceOf(CodeDecryptionError);
    expect(sendStub.called).to.equal(false);
  });

  it('refuses an email source and the account-takeover notice (email only)', async () => {
    const { deps } = setup();
    for (const triggerSource of ['CustomEmailSender_SignUp', 'CustomSMSSender_AccountTakeOverNotification']) {
      const event = { ...customSmsSenderEvent(), triggerSource } as unknown as CustomSMSSenderTriggerEvent;
      expect(await rejection(deliverCustomMessage(event, deps))).to.be.instanceOf(UndeliverableError);
    }
  });

  describe('the domain policy (parity with custom-message in the cognito delivery mode)', () => {
    for (const source of SOURCES.customSmsSender) {
      it(`${source}: texts nobody for an account whose email is outside the allowed domains, decrypting nothing and returning`, async () => {
        const { sendStub, decrypt, sender, persistence } = setup();
        const event = customSmsSenderEvent({ triggerSource: source, code: await encrypt('482913'), userAttributes: confirmedUserAttributes({ email: 'x@evil-corp.example', phone_number: PHONE }) });
        const kind = source.replace('CustomSMSSender_', '');
        expect(await sender(event, lambdaContext())).to.deep.equal({ delivered: false, channel: 'sms', kind, refused: 'domain-not-allowed' });
        expect(sendStub.called, 'texted').to.equal(false);
        expect(decrypt.called, 'decrypted').to.equal(false);
        expect(persistence.records.size, 'idempotency records').to.equal(0);
      });
    }

    it('texts an account without an email, and one whose email the policy accepts', async () => {
      for (const userAttributes of [{ sub: SUB, phone_number: PHONE }, confirmedUserAttributes({ email: 'Frodo@Gmail.com', phone_number: PHONE })]) {
        const { sendStub, deps } = setup();
        const result = await deliverCustomMessage(customSmsSenderEvent({ triggerSource: 'CustomSMSSender_VerifyUserAttribute', code: await encrypt('482913'), userAttributes }), deps);
        expect(result, JSON.stringify(userAttributes)).to.deep.include({ delivered: true });
        expect(sendStub.firstCall.args[0].to).to.equal(PHONE);
      }
    });

    it('refuses an empty or malformed email with the parser’s reason', async () => {
      for (const [email, reason] of [['', 'missing'], ['x@gmаil.com', 'non-ascii'], ['frodo@gmail.com,x@evil.example', 'at-sign']] as const) {
        const { sendStub, deps } = setup();
        const event = customSmsSenderEvent({ code: await encrypt('1'), userAttributes: confirmedUserAttributes({ email, phone_number: PHONE }) });
        expect(await deliverCustomMessage(event, deps), JSON.stringify(email)).to.deep.include({ delivered: false, refused: reason });
        expect(sendStub.called).to.equal(false);
      }
    });
  });

  it('texts once when Lambda replays the event, and again only after a failure', async () => {
    let fail = true;
    const { sendStub, sender } = setup(async () => {
      if (fail) {
        fail = false;
        throw new Error('twilio answered HTTP 500');
      }
    });
    const event = customSmsSenderEvent({ code: await encrypt('555000') });
    expect(await rejection(sender(event, lambdaContext()))).to.be.instanceOf(Error);
    await sender(event, lambdaContext());
    await sender(event, lambdaContext());
    await sender(event, lambdaContext());
    expect(sendStub.callCount).to.equal(2);
  });

  it('never logs the phone number or the code', async () => {
    const code = await encrypt('864209');
    const ok = await captureLogs(() => setup().sender(customSmsSenderEvent({ code }), lambdaContext()));
    const failed = await captureLogs(() =>
      setup(async () => {
        throw new Error(`could not text ${PHONE}`);
      }).sender(customSmsSenderEvent({ code }), lambdaContext()),
    );
    expect(failed.error).to.be.instanceOf(Error);
    const logs = ok.output + failed.output;
    expect(logs).to.include('Message delivered');
    for (const secret of ['864209', code.slice(0, 16), PHONE, '7700900123']) expect(logs).not.to.include(secret);
  });
});
