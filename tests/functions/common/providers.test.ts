/**
 * The SendGrid and Twilio clients over real HTTP (a local server standing in for each API, as the sandbox
 * does), their failure and timeout behaviour, secret parsing, and the once-per-cold-start secret cache.
 */
import http from 'node:http';
import type net from 'node:net';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { expect } from 'chai';
import { httpPost, post, ProviderError, type HttpPost } from '../../../functions/common/providers/http.ts';
import { cachedSecret } from '../../../functions/common/providers/secrets.ts';
import { parseSendGridSecret, sendGridEmailSender } from '../../../functions/common/providers/sendgrid.ts';
import { parseTwilioSecret, twilioSmsSender } from '../../../functions/common/providers/twilio.ts';
import { rejection } from '../../fixtures/promises.ts';

interface Received {
  remotePort: number | undefined;
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A local HTTP server answering with `respond`; records every request. */
async function stubApi(respond: (req: Received, res: http.ServerResponse) => void) {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const r = { remotePort: req.socket.remotePort, method: req.method!, url: req.url!, headers: req.headers, body };
      received.push(r);
      respond(r, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  return {
    baseUrl,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const SID = 'AC0123456789abcdef0123456789abcdef';
const EMAIL = { from: { address: 'no-reply@example.com', name: 'Example' }, to: 'frodo@example.com', subject: 'Your code', html: '<p>123456</p>', text: '123456' };


describe('delivery providers', () => {
  describe('SendGrid v3 Mail Send', () => {
    it('POSTs the message to <base>/v3/mail/send with the API key as a bearer token, tracking off', async () => {
      const api = await stubApi((_req, res) => res.writeHead(202).end());
      try {
        const send = sendGridEmailSender({ baseUrl: api.baseUrl, credentials: async () => ({ apiKey: 'SG.test-key' }), http: httpPost, timeoutMs: 2_000 });
        await send(EMAIL);
        expect(api.received).to.have.length(1);
        const [req] = api.received;
        expect(req!.method).to.equal('POST');
        expect(req!.url).to.equal('/v3/mail/send');
        expect(req!.headers.authorization).to.equal('Bearer SG.test-key');
        const body = JSON.parse(req!.body);
        expect(body.personalizations).to.deep.equal([{ to: [{ email: 'frodo@example.com' }] }]);
        expect(body.from).to.deep.equal({ email: 'no-reply@example.com', name: 'Example' });
        expect(body.content.map((c: { type: string }) => c.type)).to.deep.equal(['text/plain', 'text/html']);
        expect(body.tracking_settings.click_tracking.enable).to.equal(false);
        expect(body.tracking_settings.open_tracking.enable).to.equal(false);
      } finally {
        await api.close();
      }
    });

    it('rejects with the HTTP status when SendGrid refuses, flagging rejected credentials', async () => {
      const api = await stubApi((_req, res) => res.writeHead(401, { 'content-type': 'application/json' }).end('{"errors":[{"message":"bad key"}]}'));
      try {
        const send = sendGridEmailSender({ baseUrl: api.baseUrl, credentials: async () => ({ apiKey: 'SG.wrong' }), http: httpPost, timeoutMs: 2_000 });
        const error = await rejection(send(EMAIL));
        expect(error).to.be.instanceOf(ProviderError).and.to.include({ status: 401, credentialsRejected: true });
        expect((error as Error).message).not.to.include('SG.wrong');
      } finally {
        await api.close();
      }
    });

    it('rejects within the deadline when SendGrid hangs', async () => {
      const api = await stubApi(() => undefined);
      try {
        const send = sendGridEmailSender({ baseUrl: api.baseUrl, credentials: async () => ({ apiKey: 'SG.k' }), http: httpPost, timeoutMs: 200 });
        const started = performance.now();
        const error = await rejection(send(EMAIL));
        expect(error).to.be.instanceOf(ProviderError).and.to.have.property('status', undefined);
        expect(performance.now() - started).to.be.below(2_000);
      } finally {
        await api.close();
      }
    });

    it('rejects when nothing listens', async () => {
      const api = await stubApi(() => undefined);
      await api.close();
      const send = sendGridEmailSender({ baseUrl: api.baseUrl, credentials: async () => ({ apiKey: 'SG.k' }), http: httpPost, timeoutMs: 2_000 });
      expect(await rejection(send(EMAIL))).to.be.instanceOf(ProviderError);
    });

    it('accepts only a secret with an apiKey, without echoing the value', () => {
      expect(parseSendGridSecret({ apiKey: 'SG.x' })).to.deep.equal({ apiKey: 'SG.x' });
      for (const bad of [null, 'SG.x', {}, { apiKey: '' }, { apiKey: 42 }]) expect(() => parseSendGridSecret(bad)).to.throw(TypeError, /apiKey/);
    });
  });

  describe('Twilio Messages', () => {
    it('POSTs a form to <base>/2010-04-01/Accounts/<sid>/Messages.json with basic auth and From', async () => {
      const api = await stubApi((_req, res) => res.writeHead(201, { 'content-type': 'application/json' }).end('{"sid":"SM1"}'));
      try {
        const send = twilioSmsSender({ baseUrl: api.baseUrl, credentials: async () => ({ accountSid: SID, authToken: 'tok', fromNumber: '+15005550006' }), http: httpPost, timeoutMs: 2_000 });
        await send({ to: '+447700900123', body: 'Your code is 123456' });
        const [req] = api.received;
        expect(req!.url).to.equal(`/2010-04-01/Accounts/${SID}/Messages.json`);
        expect(req!.headers.authorization).to.equal(`Basic ${Buffer.from(`${SID}:tok`).toString('base64')}`);
        expect(req!.headers['content-type']).to.equal('application/x-www-form-urlencoded');
        expect(Object.fromEntries(new URLSearchParams(req!.body))).to.deep.equal({ To: '+447700900123', Body: 'Your code is 123456', From: '+15005550006' });
      } finally {
        await api.close();
      }
    });

    it('sends through a messaging service when the secret names one', async () => {
      const api = await stubApi((_req, res) => res.writeHead(201).end('{}'));
      try {
        const send = twilioSmsSender({ baseUrl: api.baseUrl, credentials: async () => ({ accountSid: SID, authToken: 'tok', messagingServiceSid: 'MG123' }), http: httpPost, timeoutMs: 2_000 });
        await send({ to: '+447700900123', body: 'x' });
        const form = new URLSearchParams(api.received[0]!.body);
        expect(form.get('MessagingServiceSid')).to.equal('MG123');
        expect(form.has('From')).to.equal(false);
      } finally {
        await api.close();
      }
    });

    it("rejects with Twilio's numeric error code but not its message (which can quote the number)", async () => {
      const api = await stubApi((_req, res) => res.writeHead(400).end('{"code":21211,"message":"The \'To\' number +447700900123 is not valid."}'));
      try {
        const send = twilioSmsSender({ baseUrl: api.baseUrl, credentials: async () => ({ accountSid: SID, authToken: 'tok', fromNumber: '+15005550006' }), http: httpPost, timeoutMs: 2_000 });
        const error = (await rejection(send({ to: '+447700900123', body: 'x' }))) as ProviderError;
        expect(error).to.be.instanceOf(ProviderError).and.to.include({ status: 400, providerCode: '21211', credentialsRejected: false });
        expect(error.message).not.to.include('+447700900123');
      } finally {
        await api.close();
      }
    });

    it('accepts only a complete secret', () => {
      expect(parseTwilioSecret({ accountSid: SID, authToken: 't', fromNumber: '+1' })).to.deep.equal({ accountSid: SID, authToken: 't', fromNumber: '+1' });
      expect(parseTwilioSecret({ accountSid: SID, authToken: 't', fromNumber: '+1', messagingServiceSid: 'MG1' })).to.deep.equal({ accountSid: SID, authToken: 't', messagingServiceSid: 'MG1' });
      for (const bad of [null, {}, { accountSid: 'nope', authToken: 't', fromNumber: '+1' }, { accountSid: SID, fromNumber: '+1' }, { accountSid: SID, authToken: 't' }]) {
        expect(() => parseTwilioSecret(bad)).to.throw(TypeError);
      }
    });
  });

  describe('post()', () => {
    it('reuses one kept-alive connection for consecutive sends', async () => {
      const sockets = new Set<unknown>();
      const api = await stubApi((_req, res) => res.writeHead(202).end());
      try {
        const send = sendGridEmailSender({ baseUrl: api.baseUrl, credentials: async () => ({ apiKey: 'SG.k' }), http: httpPost, timeoutMs: 2_000 });
        await send(EMAIL);
        await send(EMAIL);
        for (const r of api.received) sockets.add(r.remotePort);
        expect(api.received).to.have.length(2);
        expect(sockets.size).to.equal(1);
      } finally {
        await api.close();
      }
    });

    it('refuses a non-http(s) URL', async () => {
      expect(await rejection(post(httpPost, 'twilio', 'file:///etc/passwd', { headers: {}, body: '' }, 100))).to.be.instanceOf(ProviderError);
    });

    it('turns a transport error into a ProviderError without a status', async () => {
      const failing: HttpPost = async () => {
        throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
      };
      const error = await rejection(post(failing, 'sendgrid', 'http://x', { headers: {}, body: '' }, 100));
      expect(error).to.be.instanceOf(ProviderError).and.to.have.property('status', undefined);
    });
  });

  describe('cached provider secret', () => {
    const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:sendgrid-AbCdEf';
    // Created per suite and restored after it: client mocks patch the class prototype for the whole process.
    let sm: AwsClientStub<SecretsManagerClient>;
    before(() => {
      sm = mockClient(SecretsManagerClient);
    });
    after(() => sm.restore());
    beforeEach(() => sm.reset());

    it('reads Secrets Manager once for many sends', async () => {
      sm.on(GetSecretValueCommand).resolves({ SecretString: '{"apiKey":"SG.one"}' });
      const secret = cachedSecret(new SecretsManagerClient({ region: 'eu-west-1' }), ARN, parseSendGridSecret);
      for (let i = 0; i < 5; i++) expect(await secret.get()).to.deep.equal({ apiKey: 'SG.one' });
      expect(sm.commandCalls(GetSecretValueCommand)).to.have.length(1);
      expect(sm.commandCalls(GetSecretValueCommand)[0]!.args[0].input.SecretId).to.equal(ARN);
    });

    it('reads again after a refresh (rotated credentials)', async () => {
      sm.on(GetSecretValueCommand).resolvesOnce({ SecretString: '{"apiKey":"SG.old"}' }).resolves({ SecretString: '{"apiKey":"SG.new"}' });
      const secret = cachedSecret(new SecretsManagerClient({ region: 'eu-west-1' }), ARN, parseSendGridSecret);
      expect(await secret.get()).to.deep.equal({ apiKey: 'SG.old' });
      secret.refresh();
      expect(await secret.get()).to.deep.equal({ apiKey: 'SG.new' });
    });

    it('fails on a secret that is not JSON without quoting it, and re-reads next time', async () => {
      sm.on(GetSecretValueCommand).resolvesOnce({ SecretString: 'SG.raw-key-not-json' }).resolves({ SecretString: '{"apiKey":"SG.fixed"}' });
      const secret = cachedSecret(new SecretsManagerClient({ region: 'eu-west-1' }), ARN, parseSendGridSecret);
      const error = (await rejection(secret.get())) as Error;
      expect(error).to.be.instanceOf(TypeError);
      expect(error.message).not.to.include('SG.raw');
      expect(await secret.get()).to.deep.equal({ apiKey: 'SG.fixed' });
    });

    it('fails while the secret has no value yet', async () => {
      sm.on(GetSecretValueCommand).resolves({});
      const secret = cachedSecret(new SecretsManagerClient({ region: 'eu-west-1' }), ARN, parseSendGridSecret);
      expect(await rejection(secret.get())).to.be.instanceOf(Error);
    });
  });
});
