/**
 * End-to-end: passwordless sign-in through the sandbox, with the AWS SDK's Cognito client as an app
 * would call it (InitiateAuth with CUSTOM_AUTH, then RespondToAuthChallenge), against the real bundles:
 * a magic link, a code after a wrong answer, the three-wrong-answers limit, the message throttle,
 * PreAuthentication's lockout on the flow, the audit entry with its method, and an unknown user
 * answered exactly like a real one.
 */
import { expect } from 'chai';
import {
  AdminCreateUserCommand,
  AdminSetUserPasswordCommand,
  CognitoIdentityProviderClient,
  InitiateAuthCommand,
  RespondToAuthChallengeCommand,
  type InitiateAuthCommandOutput,
} from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import type { ConsoleState } from '../../sandbox/console/state.ts';
import { startSandbox, type Sandbox } from '../../sandbox/index.ts';
import { rejection as rejectionOf } from '../fixtures/promises.ts';
import { claims, codeIn } from '../fixtures/sandbox.ts';

const rejection = (promise: Promise<unknown>) => rejectionOf<{ name: string; message: string }>(promise);
const EMAIL = 'samwise@gmail.com';

describe('sandbox: passwordless sign-in (magic link and emailed code)', function () {
  this.timeout(90_000);
  let sandbox: Sandbox;
  let cognito: CognitoIdentityProviderClient;
  let dynamo: DynamoDBClient;
  let clientId: string;
  let sub: string;

  const start = (username: string) => cognito.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'CUSTOM_AUTH', AuthParameters: { USERNAME: username } }));
  const answer = (username: string, session: string | undefined, value: string, clientMetadata?: Record<string, string>) =>
    cognito.send(new RespondToAuthChallengeCommand({ ClientId: clientId, ChallengeName: 'CUSTOM_CHALLENGE', Session: session, ChallengeResponses: { USERNAME: username, ANSWER: value }, ...(clientMetadata ? { ClientMetadata: clientMetadata } : {}) }));
  /** Starts a session and asks for a method: the challenge that a link or code went out for. */
  const ask = async (username: string, method: 'link' | 'code') => {
    const first = await start(username);
    return answer(username, first.Session, method, { signInMethod: method });
  };
  const mailTo = async (to: string) => (await sandbox.stores.ses()).filter((m) => m.to === to);
  const audits = async () =>
    (await dynamo.send(new QueryCommand({ TableName: sandbox.endpoints.dynamodb.tableName, KeyConditionExpression: 'pk = :pk AND begins_with(sk, :login)', ExpressionAttributeValues: { ':pk': { S: `USER#${sub}` }, ':login': { S: 'LOGIN#' } }, ConsistentRead: true }))).Items ?? [];
  const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const consoleMessages = async () => ((await (await fetch(`${sandbox.endpoints.console.url}api/state`)).json()) as ConsoleState).messages.filter((m) => m.to === EMAIL);

  before(async function () {
    this.timeout(180_000);
    sandbox = await startSandbox({ waits: 'manual' });
    cognito = new CognitoIdentityProviderClient({ region: sandbox.endpoints.region, endpoint: sandbox.endpoints.cognito.endpoint, credentials: sandbox.credentials, maxAttempts: 1 });
    dynamo = new DynamoDBClient({ region: sandbox.endpoints.region, endpoint: sandbox.endpoints.dynamodb.endpoint, credentials: sandbox.credentials });
    clientId = sandbox.endpoints.cognito.clientId;
    const pool = sandbox.endpoints.cognito.userPoolId;
    const created = await cognito.send(new AdminCreateUserCommand({ UserPoolId: pool, Username: EMAIL, MessageAction: 'SUPPRESS', UserAttributes: [{ Name: 'email', Value: EMAIL }, { Name: 'email_verified', Value: 'true' }, { Name: 'name', Value: 'Samwise Gamgee' }] }));
    sub = created.User!.Attributes!.find((a) => a.Name === 'sub')!.Value!;
    await cognito.send(new AdminSetUserPasswordCommand({ UserPoolId: pool, Username: EMAIL, Password: 'Po-tay-toes-Boil-Em-42', Permanent: true }));
  });

  after(async () => {
    cognito?.destroy();
    dynamo?.destroy();
    await sandbox?.stop();
  });

  it('signs in with a magic link: method round, link emailed through SES, the token from the link as the answer, audited as magic-link', async () => {
    const first = await start(EMAIL);
    expect(first.ChallengeName).to.equal('CUSTOM_CHALLENGE');
    expect(first.ChallengeParameters).to.deep.equal({ step: 'method', USERNAME: first.ChallengeParameters!.USERNAME });
    const challenge = await answer(EMAIL, first.Session, 'link', { signInMethod: 'link' });
    expect(challenge.ChallengeParameters).to.include({ step: 'link' });
    const [mail] = await mailTo(EMAIL);
    expect(mail?.subject).to.equal('Samwise Gamgee, your The Shire sign-in link');
    const link = new URL(/(http:\/\/localhost:3000\/sign-in\/link#\S+)/.exec(mail!.text)![1]!);
    const token = new URLSearchParams(link.hash.slice(1)).get('token')!;
    // The console page shows the link, ready to open.
    expect((await consoleMessages()).map((m) => m.link)).to.deep.equal([link.href]);
    const signedIn = await answer(EMAIL, challenge.Session, token);
    expect(claims(signedIn.AuthenticationResult?.IdToken).sub).to.equal(sub);
    // Pre-token generation applies on this path too: no email claims in the ID token.
    expect(claims(signedIn.AuthenticationResult?.IdToken)).to.not.have.property('email');
    // The link works once: its session is spent, and replaying it fails.
    expect((await rejection(answer(EMAIL, challenge.Session, token))).name).to.equal('NotAuthorizedException');
    expect((await audits()).map((a) => a.method?.S)).to.deep.equal(['magic-link']);
  });

  it('signs in with a code after a wrong answer, and audits it as code', async () => {
    await pause(1_100);
    const challenge = await ask(EMAIL, 'code');
    expect(challenge.ChallengeParameters).to.include({ step: 'code' });
    const code = codeIn((await mailTo(EMAIL)).at(-1)!);
    expect((await consoleMessages()).find((m) => m.subject?.endsWith('sign-in code'))?.code).to.deep.equal({ label: 'Sign-in code', value: code });
    const wrong = await answer(EMAIL, challenge.Session, code === '000000' ? '000001' : '000000');
    expect(wrong.ChallengeName, 'the same challenge again').to.equal('CUSTOM_CHALLENGE');
    expect(wrong.ChallengeParameters).to.include({ step: 'code' });
    const signedIn = await answer(EMAIL, wrong.Session, code);
    expect(claims(signedIn.AuthenticationResult?.AccessToken).sub).to.equal(sub);
    expect((await audits()).map((a) => a.method?.S).sort()).to.deep.equal(['code', 'magic-link']);
    expect(await mailTo(EMAIL), 'one message per sign-in, none for the retry').to.have.length(2);
  });

  it('fails the session after three wrong answers, in the words of any failed sign-in', async () => {
    await pause(1_100);
    let step: InitiateAuthCommandOutput = await ask(EMAIL, 'code');
    for (let i = 0; i < 2; i++) step = await answer(EMAIL, step.Session, 'abcdef');
    const error = await rejection(answer(EMAIL, step.Session, '12345'));
    expect(error).to.include({ name: 'NotAuthorizedException', message: 'Incorrect username or password.' });
  });

  it('refuses a fourth message within the hour, with the throttle message and without sending it', async () => {
    await pause(1_100);
    const before = (await mailTo(EMAIL)).length;
    const first = await start(EMAIL);
    const error = await rejection(answer(EMAIL, first.Session, 'code', { signInMethod: 'code' }));
    expect(error.name).to.equal('UserLambdaValidationException');
    expect(error.message).to.equal('CreateAuthChallenge failed with error A sign-in message was sent a moment ago. Use it, or wait a minute and ask again.');
    expect(await mailTo(EMAIL)).to.have.length(before);
  });

  it('counts custom-auth sign-ins in the lockout: PreAuthentication refuses once the attempts run out', async () => {
    // Two failed sessions since the last success; three more starts reach the limit of 5.
    for (let i = 0; i < 3; i++) await start(EMAIL);
    const error = await rejection(start(EMAIL));
    expect(error.name).to.equal('UserLambdaValidationException');
    expect(error.message).to.match(/^PreAuthentication failed with error Too many sign-in attempts\. Try again in \d+ minutes?\.$/);
  });

  it('walks an unknown user through the same rounds with the same answers, and emails nobody', async () => {
    const typed = 'nobody.here@gmail.com';
    const first = await start(typed);
    expect(first.ChallengeName).to.equal('CUSTOM_CHALLENGE');
    expect(Object.keys(first.ChallengeParameters!).sort()).to.deep.equal(['USERNAME', 'step']);
    const challenge = await answer(typed, first.Session, 'code', { signInMethod: 'code' });
    expect(Object.keys(challenge.ChallengeParameters!).sort()).to.deep.equal(['USERNAME', 'expiresAt', 'step']);
    expect(challenge.ChallengeParameters!.step).to.equal('code');
    let step: InitiateAuthCommandOutput = challenge;
    for (let i = 0; i < 2; i++) step = await answer(typed, step.Session, '123456');
    // Re-presented unchanged after wrong answers, as a real user's challenge is.
    expect(step.ChallengeParameters).to.deep.equal(challenge.ChallengeParameters);
    expect(await rejection(answer(typed, step.Session, '123456'))).to.include({ name: 'NotAuthorizedException', message: 'Incorrect username or password.' });
    expect(await mailTo(typed)).to.deep.equal([]);
  });
});
