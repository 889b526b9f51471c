/**
 * End-to-end: the welcome email through the local sandbox, with the real bundles. SES refuses; the
 * confirmation still succeeds, since post-confirmation only saves the profile. Its INSERT reaches
 * send-welcome-email through the sandbox's table stream and event source mapping, which retries the
 * record the function reports as failed, like Lambda; SES recovers; exactly one welcome arrives.
 */
import { expect } from 'chai';
import { CognitoIdentityProviderClient, ConfirmSignUpCommand, SignUpCommand } from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { startSandbox, type Sandbox } from '../../sandbox/index.ts';
import { awsRestError, FORWARD, startFaultProxy, type FaultProxy } from '../reliability/lib/net.ts';

describe('post-confirmation queues the welcome email on the table stream (sandbox, real bundles)', function () {
  this.timeout(120_000);
  let sandbox: Sandbox;
  let sesProxy: FaultProxy | undefined;
  let cognito: CognitoIdentityProviderClient;
  let dynamo: DynamoDBClient;

  before(async () => {
    // No prewarm: send-welcome-email's environment starts at its first invocation, once the proxy exists.
    sandbox = await startSandbox({
      waits: 'manual',
      prewarm: false,
      streamRetryDelayMs: 300,
      environmentOverride: (name, env) => (name === 'send-welcome-email' && sesProxy ? { ...env, AWS_ENDPOINT_URL_SESV2: sesProxy.url } : env),
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

  it('confirms while SES refuses, then the mapping’s retry of the failed record delivers exactly one welcome email and marks the profile SENT', async () => {
    const clientId = sandbox.endpoints.cognito.clientId;
    const email = 'samwise@gmail.com';
    const { UserSub: sub } = await cognito.send(
      new SignUpCommand({ ClientId: clientId, Username: email, Password: 'Po-tay-toes-42!', UserAttributes: [{ Name: 'email', Value: email }, { Name: 'name', Value: 'Samwise Gamgee' }] }),
    );
    const mail = await sandbox.stores.waitFor('sendgrid', (m) => m.to === email);
    const code = /\b(\d{6})\b/.exec(mail.text)![1]!;

    // SES throttles every SDK attempt of send-welcome-email's first invocation (3, the background budget), then recovers.
    let refusals = 0;
    sesProxy!.policy = (request) => (request.url.includes('/outbound-emails') && refusals++ < 3 ? awsRestError('TooManyRequestsException', 429) : FORWARD(request));
    await cognito.send(new ConfirmSignUpCommand({ ClientId: clientId, Username: email, ConfirmationCode: code }));
    await sandbox.settle();

    const runs = (name: string) => sandbox.lambda.invocations.filter((i) => i.function === name).map((r) => [r.type, r.error ?? 'ok']);
    expect(runs('post-confirmation'), 'the confirmation succeeded').to.deep.equal([['RequestResponse', 'ok']]);
    // One INSERT on the stream; the profile's SENT update is a MODIFY, which the filter keeps away from the function.
    const records = [...sandbox.tableStream.records.values()].flat().filter((r) => r.dynamodb?.Keys?.pk?.S === `USER#${sub}`);
    expect(records.map((r) => r.eventName)).to.deep.equal(['INSERT', 'MODIFY']);
    const inserted = records[0]!.dynamodb!.SequenceNumber!;
    expect(sandbox.mappings.deliveries.map((d) => [d.functionName.endsWith('send-welcome-email'), d.sequenceNumbers, d.outcome, d.failed])).to.deep.equal([
      [true, [inserted], 'partial', [inserted]],
      [true, [inserted], 'success', []],
    ]);
    expect(refusals, 'SES refused 3 calls, then accepted 1').to.equal(4);
    const welcomes = (await sandbox.stores.ses()).filter((m) => m.to === email);
    expect(welcomes, 'welcome emails').to.have.length(1);
    const row = (await dynamo.send(new GetItemCommand({ TableName: sandbox.endpoints.dynamodb.tableName, Key: { pk: { S: `USER#${sub}` }, sk: { S: 'PROFILE' } }, ConsistentRead: true }))).Item;
    expect(row?.welcomeEmail?.S).to.equal('SENT');
    expect([...sandbox.mappings.failures.values()].flat(), 'nothing given up on').to.deep.equal([]);
  });
});
