/**
 * End-to-end: the welcome-email retry through the local sandbox, with the real bundle. SES refuses the
 * confirmation's send; post-confirmation hands the email to an asynchronous invocation of itself, which
 * the sandbox's Lambda host accepts (202) and retries like Lambda; SES recovers; exactly one welcome arrives.
 */
import { expect } from 'chai';
import { CognitoIdentityProviderClient, ConfirmSignUpCommand, SignUpCommand } from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { startSandbox, type Sandbox } from '../../sandbox/index.ts';
import { awsRestError, FORWARD, startFaultProxy, type FaultProxy } from '../reliability/lib/net.ts';

describe('post-confirmation welcome retry (sandbox, real bundle)', function () {
  this.timeout(120_000);
  let sandbox: Sandbox;
  let sesProxy: FaultProxy | undefined;
  let cognito: CognitoIdentityProviderClient;
  let dynamo: DynamoDBClient;

  before(async () => {
    // No prewarm: post-confirmation's environment starts at its first invocation, once the proxy exists.
    sandbox = await startSandbox({
      waits: 'manual',
      prewarm: false,
      asyncRetryDelaysMs: [300, 300],
      environmentOverride: (name, env) => (name === 'post-confirmation' && sesProxy ? { ...env, AWS_ENDPOINT_URL_SESV2: sesProxy.url } : env),
    });
    sesProxy = await startFaultProxy(sandbox.urls.ses);
    cognito = new CognitoIdentityProviderClient({ region: sandbox.endpoints.region, endpoint: sandbox.endpoints.cognito.endpoint, credentials: sandbox.credentials, maxAttempts: 1 });
    dynamo = new DynamoDBClient({ region: sandbox.endpoints.region, endpoint: sandbox.endpoints.dynamodb.endpoint, credentials: sandbox.credentials });
  });

  after(async () => {
    cognito?.destroy();
    dynamo?.destroy();
    await sandbox?.stop();
    await sesProxy?.stop();
    expect(sandbox.pids(), 'no process outlives the sandbox').to.deep.equal([]);
  });

  it('confirms while SES refuses, then Lambda’s asynchronous retry delivers exactly one welcome email and marks the profile SENT', async () => {
    const clientId = sandbox.endpoints.cognito.clientId;
    const email = 'samwise@gmail.com';
    const { UserSub: sub } = await cognito.send(
      new SignUpCommand({ ClientId: clientId, Username: email, Password: 'Po-tay-toes-42!', UserAttributes: [{ Name: 'email', Value: email }, { Name: 'name', Value: 'Samwise Gamgee' }] }),
    );
    const mail = await sandbox.stores.waitFor('sendgrid', (m) => m.to === email);
    const code = /\b(\d{6})\b/.exec(mail.text)![1]!;

    // SES refuses the confirmation's send and the first asynchronous attempt (one SDK attempt each), then recovers.
    let refusals = 0;
    sesProxy!.policy = (request) => (request.url.includes('/outbound-emails') && refusals++ < 2 ? awsRestError('TooManyRequestsException', 429) : FORWARD(request));
    await cognito.send(new ConfirmSignUpCommand({ ClientId: clientId, Username: email, ConfirmationCode: code }));
    await sandbox.settle();

    const runs = sandbox.lambda.invocations.filter((i) => i.function === 'post-confirmation');
    expect(runs.map((r) => [r.type, r.error ?? 'ok'])).to.deep.equal([
      ['RequestResponse', 'ok'],
      ['Event', 'WelcomeNotSentError'],
      ['Event', 'ok'],
    ]);
    expect(refusals, 'SES refused 2 calls, then accepted 1').to.equal(3);
    const welcomes = (await sandbox.stores.ses()).filter((m) => m.to === email);
    expect(welcomes, 'welcome emails').to.have.length(1);
    const row = (await dynamo.send(new GetItemCommand({ TableName: sandbox.endpoints.dynamodb.tableName, Key: { pk: { S: `USER#${sub}` }, sk: { S: 'PROFILE' } }, ConsistentRead: true }))).Item;
    expect(row?.welcomeEmail?.S).to.equal('SENT');
  });
});
