/**
 * End-to-end: `make resend-welcome` after an SES incident, in the local sandbox with the real bundles.
 * SES refuses every send (sending paused) for longer than the stream mapping retries, so the mapping
 * gives the record up to the failure destination and the profile stays PENDING. SES recovers; the
 * command finds the profile, delivers it to send-welcome-email as the mapping would, exactly one
 * welcome arrives and the profile is SENT. Run again, as the make target runs it, it finds nothing.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { CognitoIdentityProviderClient, ConfirmSignUpCommand, SignUpCommand } from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { expect } from 'chai';
import { fingerprint } from '../../functions/common/logger.ts';
import { WELCOME_EMAIL_STREAM } from '../../infra/welcome-email-stream.ts';
import { EXIT, main, type ResendClients } from '../../scripts/resend-welcome.ts';
import { startSandbox, type Sandbox } from '../../sandbox/index.ts';
import { awsRestError, FORWARD, startFaultProxy, type FaultProxy } from '../reliability/lib/net.ts';

const root = path.resolve(import.meta.dirname, '../..');

describe('resend-welcome re-sends what the stream mapping gave up on (sandbox, real bundles)', function () {
  this.timeout(180_000);
  let sandbox: Sandbox;
  let sesProxy: FaultProxy | undefined;
  let cognito: CognitoIdentityProviderClient;
  let dynamo: DynamoDBClient;
  let clients: ResendClients;

  before(async () => {
    // No prewarm: send-welcome-email's environment starts at its first invocation, once the proxy exists.
    sandbox = await startSandbox({
      waits: 'manual',
      prewarm: false,
      streamRetryDelayMs: 20,
      environmentOverride: (name, env) => (name === 'send-welcome-email' && sesProxy ? { ...env, AWS_ENDPOINT_URL_SESV2: sesProxy.url } : env),
    });
    sesProxy = await startFaultProxy(sandbox.urls.ses);
    const { region } = sandbox.endpoints;
    cognito = new CognitoIdentityProviderClient({ region, endpoint: sandbox.endpoints.cognito.endpoint, credentials: sandbox.credentials, maxAttempts: 1 });
    dynamo = new DynamoDBClient({ region, endpoint: sandbox.endpoints.dynamodb.endpoint, credentials: sandbox.credentials });
    clients = {
      db: DynamoDBDocumentClient.from(new DynamoDBClient({ region, endpoint: sandbox.endpoints.dynamodb.endpoint, credentials: sandbox.credentials })),
      lambda: new LambdaClient({ region, endpoint: sandbox.endpoints.lambda.endpoint, credentials: sandbox.credentials }),
    };
  });

  after(async () => {
    cognito?.destroy();
    dynamo?.destroy();
    (clients?.db as DynamoDBDocumentClient | undefined)?.destroy();
    (clients?.lambda as LambdaClient | undefined)?.destroy();
    await sandbox?.stop();
    await sesProxy?.stop();
    expect(sandbox.pids(), 'no process outlives the sandbox').to.deep.equal([]);
  });

  it('leaves the profile PENDING after the mapping gives up, then re-sends exactly one welcome email and finds nothing on the next run', async () => {
    const tableName = sandbox.endpoints.dynamodb.tableName;
    const welcomeFunction = sandbox.stack.functions.find((f) => f.name === 'send-welcome-email')!;
    const streamArn = sandbox.stack.table.stream!.arn;
    const clientId = sandbox.endpoints.cognito.clientId;
    const email = 'pippin@gmail.com';
    const { UserSub: sub } = await cognito.send(
      new SignUpCommand({ ClientId: clientId, Username: email, Password: 'Fool-of-a-Took-42!', UserAttributes: [{ Name: 'email', Value: email }, { Name: 'name', Value: 'Peregrin Took' }] }),
    );
    const mail = await sandbox.stores.waitFor('sendgrid', (m) => m.to === email);
    const code = /\b(\d{6})\b/.exec(mail.text)![1]!;

    // The account's sending is paused: every send is refused, without the SDK retrying, until the incident ends.
    let refusals = 0;
    sesProxy!.policy = (request) => {
      if (!request.url.includes('/outbound-emails')) return FORWARD(request);
      refusals++;
      return awsRestError('SendingPausedException', 400);
    };
    await cognito.send(new ConfirmSignUpCommand({ ClientId: clientId, Username: email, ConfirmationCode: code }));
    await sandbox.settle();

    const deliveries = sandbox.mappings.deliveries.filter((d) => d.functionName === welcomeFunction.functionName);
    expect(deliveries, 'the first delivery and every retry').to.have.length(WELCOME_EMAIL_STREAM.maximumRetryAttempts + 1);
    expect(deliveries.every((d) => d.outcome === 'partial')).to.equal(true);
    const givenUp = [...sandbox.mappings.failures.values()].flat();
    expect(givenUp.map((f) => [f.requestContext.condition, f.DDBStreamBatchInfo.batchSize, f.DDBStreamBatchInfo.streamArn])).to.deep.equal([['RetryAttemptsExhausted', 1, streamArn]]);
    expect(JSON.stringify(givenUp), 'the failure record holds no personal data').to.not.include(email);
    expect(refusals).to.equal(WELCOME_EMAIL_STREAM.maximumRetryAttempts + 1);
    const profile = async () =>
      (await dynamo.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: `USER#${sub}` }, sk: { S: 'PROFILE' } }, ConsistentRead: true }))).Item;
    expect((await profile())?.welcomeEmail?.S).to.equal('PENDING');
    const welcomes = async () => (await sandbox.stores.ses()).filter((m) => m.to === email);
    expect(await welcomes()).to.have.length(0);

    // The incident ends. The command runs with the table and region from the environment, as `make resend-welcome`
    // does, and the function name from the stack's naming, which must be the synthesized one.
    sesProxy!.policy = FORWARD;
    const env = { TABLE_NAME: tableName, AWS_REGION: sandbox.endpoints.region };
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) };
    const invocationsBefore = sandbox.lambda.invocations.length;

    expect(await main(['--dry-run', '--older-than', '0s'], env, io, () => clients)).to.equal(EXIT.ok);
    expect(out.at(-2)).to.equal(`Dry run: nothing sent. 1 would be re-sent to ${welcomeFunction.functionName}.`);
    expect(out.filter((l) => l.startsWith('  would re-send '))).to.have.length(1);
    expect(out.find((l) => l.startsWith('  would re-send '))).to.match(new RegExp(`^  would re-send ${fingerprint(sub!)} \\(confirmed \\d+s ago\\)$`));
    expect(sandbox.lambda.invocations.length, 'a dry run invokes nothing').to.equal(invocationsBefore);

    out.length = 0;
    // No --stream-arn: the command finds the stream the way it does in AWS, in DescribeTable.
    expect(await main(['--older-than', '0s'], env, io, () => clients)).to.equal(EXIT.ok);
    expect(err).to.deep.equal([]);
    expect(out).to.include(`Found 1, delivered 1, failed 0 (1 invocation(s) of ${welcomeFunction.functionName}).`);
    for (const line of out) expect(line, 'no address in the output').to.not.include('@');
    const resent = sandbox.lambda.invocations.slice(invocationsBefore);
    expect(resent.map((i) => [i.function, i.type, i.error ?? 'ok'])).to.deep.equal([['send-welcome-email', 'RequestResponse', 'ok']]);

    expect(await welcomes(), 'exactly one welcome email').to.have.length(1);
    expect((await profile())?.welcomeEmail?.S).to.equal('SENT');
    await sandbox.settle();
    expect(sandbox.mappings.deliveries.filter((d) => d.functionName === welcomeFunction.functionName), 'the SENT mark is a MODIFY: the mapping stays quiet').to.have.length(
      WELCOME_EMAIL_STREAM.maximumRetryAttempts + 1,
    );

    // Again, as the make target runs it: a child process reaching the sandbox through the SDK's endpoint variables.
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/resend-welcome.ts', '--older-than', '0s'], {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        ...env,
        AWS_ENDPOINT_URL_DYNAMODB: sandbox.endpoints.dynamodb.endpoint,
        AWS_ENDPOINT_URL_LAMBDA: sandbox.endpoints.lambda.endpoint,
        AWS_ACCESS_KEY_ID: sandbox.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: sandbox.credentials.secretAccessKey,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
    });
    const lines = stdout.trimEnd().split('\n');
    expect(lines).to.have.length(2);
    expect(lines[0]).to.match(/^Found 0 PENDING welcome email\(s\) in .* \(older than 0s\)\.$/);
    expect(lines[0]).to.include(` in ${tableName} confirmed before `);
    expect(lines[1]).to.equal(`Found 0, delivered 0, failed 0 (0 invocation(s) of ${welcomeFunction.functionName}).`);
    expect(await welcomes()).to.have.length(1);
  });
});
