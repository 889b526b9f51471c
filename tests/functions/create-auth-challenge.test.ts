import { ConditionalCheckFailedException, DynamoDBClient, InternalServerError } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { expect } from 'chai';
import { GENERIC_MESSAGE, UserFacingError } from '../../functions/common/errors.ts';
import { createDomainPolicy } from '../../functions/common/identity.ts';
import { parseLinkToken, secretHash } from '../../functions/common/passwordless.ts';
import { THROTTLED_MESSAGE, createChallenge, type ChallengeDeps } from '../../functions/create-auth-challenge/logic.ts';
import { EMAIL, confirmedUserAttributes, createAuthChallengeEvent, type SessionEntry } from '../fixtures/events.ts';
import { captureLogs, quietLogger } from '../fixtures/logs.ts';
import { withEnvironment } from '../fixtures/env.ts';
import { conditionFailedAnswer, withAwsEndpoint } from '../fixtures/aws-endpoint.ts';

const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);
const POLICY = createDomainPolicy({ allowedDomains: ['gmail.com'], allowSubdomains: false });
const method: SessionEntry = { challengeName: 'CUSTOM_CHALLENGE', challengeResult: false, challengeMetadata: 'METHOD' };
const conditionFailed = () => new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

interface Sent {
  to: string;
  kind: string;
  context: { name?: string; email: string; code?: string; link?: string };
}

describe('create-auth-challenge', () => {
  quietLogger();
  let ddb: AwsClientStub<DynamoDBDocumentClient>;
  before(() => {
    ddb = mockClient(DynamoDBDocumentClient);
  });
  after(() => ddb.restore());
  let sent: Sent[];
  let deps: ChallengeDeps;
  let clock = T0;
  beforeEach(() => {
    clock = T0;
    ddb.reset();
    ddb.on(UpdateCommand).resolves({}).on(PutCommand).resolves({});
    sent = [];
    deps = {
      db: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' })),
      tableName: 'data',
      settings: { linkUrl: 'https://app.example.com/sign-in/link', validitySeconds: 900, minIntervalSeconds: 60, maxPerHour: 5 },
      branding: { appName: 'Example', appUrl: 'https://app.example.com' },
      policy: POLICY,
      send: async (to, kind, context) => {
        sent.push({ to, kind, context });
      },
      now: () => clock,
    };
  });

  it('asks for the method in the first round, sending nothing and writing nothing', async () => {
    const response = await createChallenge(deps, createAuthChallengeEvent());
    expect(response).to.deep.equal({ publicChallengeParameters: { step: 'method' }, privateChallengeParameters: { step: 'method' }, challengeMetadata: 'METHOD' });
    expect(sent).to.deep.equal([]);
    expect(ddb.calls()).to.have.length(0);
  });

  it('asks again when the client names no method it supports', async () => {
    for (const clientMetadata of [{}, { signInMethod: 'sms' }, { signInMethod: 'LINK' }] as Array<Record<string, string>>) {
      expect((await createChallenge(deps, createAuthChallengeEvent({ session: [method], clientMetadata }))).challengeMetadata).to.equal('METHOD');
    }
    expect(sent).to.deep.equal([]);
  });

  it('emails a 6-digit code and gives Cognito only its hash, bound to a fresh challenge id', async () => {
    const response = await createChallenge(deps, createAuthChallengeEvent({ session: [method], clientMetadata: { signInMethod: 'code' } }));
    expect(sent).to.have.length(1);
    const { to, kind, context } = sent[0]!;
    expect({ to, kind, name: context.name }).to.deep.equal({ to: EMAIL, kind: 'SignInCode', name: 'Frodo Baggins' });
    expect(context.code).to.match(/^\d{6}$/);
    const id = /^CODE:([0-9a-f]{32})$/.exec(response.challengeMetadata)![1]!;
    expect(response.publicChallengeParameters).to.deep.equal({ step: 'code', expiresAt: new Date(T0 + 900_000).toISOString() });
    expect(response.privateChallengeParameters).to.deep.equal({ step: 'code', challengeId: id, hash: secretHash(id, 'code', context.code!), validUntil: String(T0 + 900_000) });
    expect(JSON.stringify(response)).to.not.include(context.code);
    const put = ddb.commandCalls(PutCommand)[0]!.args[0].input;
    expect(put.Item).to.deep.equal({ pk: `PASSWORDLESS#${EMAIL}`, sk: `CHALLENGE#${id}`, step: 'code', hash: secretHash(id, 'code', context.code!), validUntil: T0 + 900_000, expiresAt: T0 / 1000 + 900 + 3600 });
    expect(put.ConditionExpression).to.equal('attribute_not_exists(pk)');
  });

  it('emails a magic link to the configured page, its secret in the fragment and only its hash kept', async () => {
    const response = await createChallenge(deps, createAuthChallengeEvent({ session: [method], clientMetadata: { signInMethod: 'link' } }));
    const link = new URL(sent[0]!.context.link!);
    expect(sent[0]!.kind).to.equal('MagicLink');
    expect(`${link.origin}${link.pathname}`).to.equal('https://app.example.com/sign-in/link');
    expect(link.search).to.equal('');
    const token = parseLinkToken(new URLSearchParams(link.hash.slice(1)).get('token')!)!;
    expect(response.challengeMetadata).to.equal(`LINK:${token.challengeId}`);
    expect(response.privateChallengeParameters.hash).to.equal(secretHash(token.challengeId, 'link', token.secret));
    expect(JSON.stringify(response) + JSON.stringify(ddb.calls().map((c) => c.args[0].input))).to.not.include(token.secret);
  });

  it('draws a new challenge id and secret every time', async () => {
    const ids = new Set<string>();
    const links = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const response = await createChallenge(deps, createAuthChallengeEvent({ session: [method], clientMetadata: { signInMethod: i % 2 ? 'code' : 'link' } }));
      ids.add(response.privateChallengeParameters.challengeId!);
      if (sent[i]!.context.link) links.add(sent[i]!.context.link!);
    }
    expect([ids.size, links.size]).to.deep.equal([50, 25]);
  });

  it('gives an unknown user, an unverified address and one outside the domain policy the same answer, and sends nothing', async () => {
    const real = await createChallenge(deps, createAuthChallengeEvent({ session: [method], clientMetadata: { signInMethod: 'code' } }));
    sent = [];
    const shape = (r: typeof real) => ({ pub: Object.keys(r.publicChallengeParameters), step: r.publicChallengeParameters.step, expiresAt: r.publicChallengeParameters.expiresAt, priv: Object.keys(r.privateChallengeParameters), meta: r.challengeMetadata.slice(0, 5) });
    for (const options of [
      { userNotFound: true, userName: 'nobody@gmail.com' },
      { userAttributes: confirmedUserAttributes({ email_verified: 'false' }) },
      { userAttributes: confirmedUserAttributes({ email: 'frodo@evil.example' }) },
    ]) {
      const other = await createChallenge(deps, createAuthChallengeEvent({ ...options, session: [method], clientMetadata: { signInMethod: 'code' } }));
      expect(shape(other)).to.deep.equal(shape(real));
    }
    expect(sent).to.deep.equal([]);
    // The throttle counts them all alike and every challenge is stored alike, so neither tells them apart.
    expect(ddb.commandCalls(UpdateCommand)).to.have.length(4);
    expect(ddb.commandCalls(PutCommand)).to.have.length(4);
  });

  it('re-presents an unknown user\'s challenge after a wrong answer exactly as a real one\'s, expiry included', async () => {
    const unknown = { userNotFound: true, userName: 'nobody@gmail.com' };
    const first = await createChallenge(deps, createAuthChallengeEvent({ ...unknown, session: [method], clientMetadata: { signInMethod: 'code' } }));
    ddb.on(GetCommand).resolves({ Item: ddb.commandCalls(PutCommand)[0]!.args[0].input.Item });
    clock += 30_000;
    const wrong: SessionEntry = { challengeName: 'CUSTOM_CHALLENGE', challengeResult: false, challengeMetadata: first.challengeMetadata };
    expect(await createChallenge(deps, createAuthChallengeEvent({ ...unknown, session: [method, wrong] }))).to.deep.equal(first);
    expect(sent).to.deep.equal([]);
  });

  it('refuses a new message while the throttle says no, without naming the account, and sends nothing', async () => {
    ddb.on(UpdateCommand).rejects(conditionFailed());
    for (const options of [{}, { userNotFound: true, userName: 'nobody@gmail.com' }]) {
      const error = await createChallenge(deps, createAuthChallengeEvent({ ...options, session: [method], clientMetadata: { signInMethod: 'link' } })).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(UserFacingError).and.include({ message: THROTTLED_MESSAGE, reason: 'throttled' });
    }
    expect(sent).to.deep.equal([]);
    expect(ddb.commandCalls(PutCommand)).to.have.length(0);
  });

  it('fails closed, sending nothing, when the throttle cannot be reached', async () => {
    ddb.on(UpdateCommand).rejects(new InternalServerError({ message: 'boom', $metadata: {} }));
    const error = await createChallenge(deps, createAuthChallengeEvent({ session: [method], clientMetadata: { signInMethod: 'code' } })).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(UserFacingError).and.include({ message: GENERIC_MESSAGE, reason: 'throttle-unavailable' });
    expect(sent).to.deep.equal([]);
  });

  it('gives the throttle, the challenge item and the email one shared deadline, so slow calls cannot outlast Cognito', async () => {
    const hanging = { send: (_command: unknown, options?: { abortSignal?: AbortSignal }) => new Promise((_resolve, reject) => options?.abortSignal?.addEventListener('abort', () => reject(options.abortSignal!.reason))) };
    const started = performance.now();
    const error = await createChallenge({ ...deps, db: hanging as never, deadlineMs: 50 }, createAuthChallengeEvent({ session: [method], clientMetadata: { signInMethod: 'code' } })).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(UserFacingError).and.include({ reason: 'throttle-unavailable' });
    expect(performance.now() - started).to.be.below(2_000);
    let signal: AbortSignal | undefined;
    await createChallenge({ ...deps, send: async (_to, _kind, _context, s) => void (signal = s) }, createAuthChallengeEvent({ session: [method], clientMetadata: { signInMethod: 'code' } }));
    expect(signal?.aborted).to.equal(false);
    expect(ddb.calls().every((c) => (c.args as unknown[])[1] !== undefined)).to.equal(true);
  });

  it('fails with the generic message when the email cannot be sent, and logs no secret', async () => {
    let code = '';
    deps = { ...deps, send: async (_to, _kind, context) => {
      code = context.code!;
      throw Object.assign(new Error(`provider said no to ${context.code}`), { name: 'MessageRejected' });
    } };
    const { error, output } = await captureLogs(() => createChallenge(deps, createAuthChallengeEvent({ session: [method], clientMetadata: { signInMethod: 'code' } })));
    expect(error).to.be.instanceOf(UserFacingError).and.include({ message: GENERIC_MESSAGE, reason: 'delivery-failed' });
    expect(code).to.match(/^\d{6}$/);
    expect(output).to.include('MessageRejected').and.not.include(`"${code}"`).and.not.include(EMAIL).and.not.include('provider said no');
  });

  it('re-presents the same hash after a wrong answer, read from the table, without sending again', async () => {
    const first = await createChallenge(deps, createAuthChallengeEvent({ session: [method], clientMetadata: { signInMethod: 'code' } }));
    const item = ddb.commandCalls(PutCommand)[0]!.args[0].input.Item!;
    ddb.on(GetCommand).resolves({ Item: item });
    const wrong: SessionEntry = { challengeName: 'CUSTOM_CHALLENGE', challengeResult: false, challengeMetadata: first.challengeMetadata };
    const again = await createChallenge(deps, createAuthChallengeEvent({ session: [method, wrong] }));
    expect(again).to.deep.equal(first);
    expect(sent).to.have.length(1);
    expect(ddb.commandCalls(GetCommand)[0]!.args[0].input).to.deep.include({ Key: { pk: `PASSWORDLESS#${EMAIL}`, sk: item.sk }, ConsistentRead: true });
    ddb.on(GetCommand).resolves({});
    const missing = await createChallenge(deps, createAuthChallengeEvent({ session: [method, wrong] })).catch((e: unknown) => e);
    expect(missing).to.be.instanceOf(UserFacingError).and.include({ reason: 'challenge-missing', message: GENERIC_MESSAGE });
  });

  it('logs the step and a fingerprint, never the code, the link or the address', async () => {
    const { output, lines } = await captureLogs(() => createChallenge(deps, createAuthChallengeEvent({ session: [method], clientMetadata: { signInMethod: 'link' } })));
    const token = new URLSearchParams(new URL(sent[0]!.context.link!).hash.slice(1)).get('token')!;
    expect(lines.map((l) => l.message)).to.include('sign-in message sent');
    expect(output).to.not.include(token.split('.')[1]).and.not.include(EMAIL);
  });

  it('refuses an event that is not a custom challenge', async () => {
    const event = createAuthChallengeEvent();
    event.request.challengeName = 'PASSWORD_VERIFIER';
    expect(await createChallenge(deps, event).catch((e: unknown) => e)).to.be.instanceOf(UserFacingError).and.include({ reason: 'malformed-event' });
  });

  describe('handler', () => {
    withEnvironment({
      TABLE_NAME: 'handler-table',
      SIGN_IN_LINK_URL: 'https://app.example.com/sign-in/link',
      APP_NAME: 'Example',
      FROM_EMAIL_ADDRESS: 'no-reply@example.com',
      ALLOWED_EMAIL_DOMAINS: 'gmail.com',
      ALLOW_SUBDOMAINS: 'false',
      AWS_REGION: 'eu-west-1',
    });
    // The handler's clients are the synchronous triggers' own (functions/common/aws-clients.ts): a loopback endpoint answers them.
    const aws = withAwsEndpoint();

    it('asks for the method without a request, then takes the message allowance from the configured table before any message, refusing with the throttle message', async () => {
      const { handler } = await import('../../functions/create-auth-challenge/index.ts');
      const first = await handler(createAuthChallengeEvent());
      expect(first.response.challengeMetadata).to.equal('METHOD');
      expect(aws.operations()).to.deep.equal([]);

      aws.on('UpdateItem', () => conditionFailedAnswer());
      const refused = await handler(createAuthChallengeEvent({ session: [method], clientMetadata: { signInMethod: 'code' } })).catch((e: unknown) => e);
      expect(refused).to.be.instanceOf(UserFacingError).and.include({ message: THROTTLED_MESSAGE });
      // Both of the throttle's conditional writes (open a window, else count within it) were refused, and nothing was sent.
      expect(aws.operations()).to.deep.equal(['UpdateItem', 'UpdateItem']);
      for (const input of aws.inputs('UpdateItem')) expect(input).to.include({ TableName: 'handler-table' });
    });
  });
});
