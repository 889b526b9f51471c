import { AdminGetUserCommand } from '@aws-sdk/client-cognito-identity-provider';
import { GetItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { SendEmailCommand } from '@aws-sdk/client-sesv2';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { expect } from 'chai';
import { cognitoUserPoolsClient, commandOperation, dynamoDbDocumentClient, sesV2Client, stepFunctionsClient } from '../../../functions/common/aws-clients.ts';
import { SYNC_TRIGGER_BUDGET } from '../../../functions/common/budgets.ts';
import * as bundledCognito from '../../../functions/common/sdk-commands/client-cognito-identity-provider.ts';
import * as bundledSes from '../../../functions/common/sdk-commands/client-sesv2.ts';
import * as bundledSfn from '../../../functions/common/sdk-commands/client-sfn.ts';
import * as bundledDocuments from '../../../functions/common/sdk-commands/lib-dynamodb.ts';
import { rejection } from '../../fixtures/promises.ts';
import { awsJsonError, withAwsEndpoint } from '../../fixtures/aws-endpoint.ts';
import { withEnvironment } from '../../fixtures/env.ts';
import { awsRestError, startFaultProxy, type FaultProxy } from '../../reliability/lib/net.ts';

describe('AWS clients of the synchronous triggers (functions/common/aws-clients.ts)', function () {
  this.timeout(20_000);
  const aws = withAwsEndpoint();
  beforeEach(() => aws.reset());

  it('reads the operation of the SDK\'s commands and of the bundles\' command classes alike', () => {
    const key = { pk: 'a', sk: 'b' };
    expect(commandOperation(new GetCommand({ TableName: 't', Key: key }))).to.deep.equal({ operation: 'GetItem', document: true });
    expect(commandOperation(new bundledDocuments.GetCommand({ TableName: 't', Key: key }))).to.deep.equal({ operation: 'GetItem', document: true });
    expect(commandOperation(new GetItemCommand({ TableName: 't', Key: marshall(key) }))).to.deep.equal({ operation: 'GetItem', document: false });
    expect(commandOperation(new StartExecutionCommand({ stateMachineArn: 'arn' }))).to.deep.equal({ operation: 'StartExecution', document: false });
    expect(commandOperation(new bundledSfn.StartExecutionCommand({ stateMachineArn: 'arn' }))).to.deep.equal({ operation: 'StartExecution', document: false });
    expect(commandOperation(new bundledCognito.AdminGetUserCommand({ UserPoolId: 'p', Username: 'u' }))).to.deep.equal({ operation: 'AdminGetUser', document: false });
    expect(commandOperation(new AdminGetUserCommand({ UserPoolId: 'p', Username: 'u' }))).to.deep.equal({ operation: 'AdminGetUser', document: false });
  });

  it('sends the same wire input for the SDK\'s document commands and the bundles\' classes, with the translate options', async () => {
    aws.on('PutItem', () => ({}));
    const db = dynamoDbDocumentClient(SYNC_TRIGGER_BUDGET, { marshallOptions: { removeUndefinedValues: true } });
    const input = { TableName: 'users', Item: { pk: 'USER#1', n: 3, tags: new Set(['a']), nested: { kept: true, dropped: undefined }, gone: undefined } };
    await db.send(new PutCommand(structuredClone(input)));
    // In a bundle the build puts this class where lib-dynamodb's PutCommand was (scripts/build.ts).
    await db.send(new bundledDocuments.PutCommand(structuredClone(input)) as unknown as PutCommand);
    const [sdk, bundled] = aws.inputs('PutItem');
    expect(sdk).to.deep.equal(bundled);
    expect(sdk!.Item).to.deep.equal({ pk: { S: 'USER#1' }, n: { N: '3' }, tags: { SS: ['a'] }, nested: { M: { kept: { BOOL: true } } } });
  });

  it('translates the values of an update and the attributes it returns', async () => {
    aws.on('UpdateItem', () => ({ Attributes: marshall({ attempts: 2, at: 'now' }) }));
    const db = dynamoDbDocumentClient(SYNC_TRIGGER_BUDGET);
    const output = await db.send(
      new UpdateCommand({ TableName: 't', Key: { pk: 'k' }, UpdateExpression: 'ADD attempts :one', ExpressionAttributeValues: { ':one': 1 }, ReturnValues: 'ALL_NEW' }),
    );
    expect(aws.inputs('UpdateItem')[0]).to.deep.include({ Key: { pk: { S: 'k' } }, ExpressionAttributeValues: { ':one': { N: '1' } } });
    expect(output.Attributes).to.deep.equal({ attempts: 2, at: 'now' });
    expect(output.$metadata).to.include({ httpStatusCode: 200, attempts: 1 });
  });

  it('passes DynamoDB\'s own commands as they are, as the SDK\'s document client does', async () => {
    aws.on('GetItem', () => ({ Item: { pk: { S: 'k' } } }));
    const output = await dynamoDbDocumentClient(SYNC_TRIGGER_BUDGET).send(new GetItemCommand({ TableName: 't', Key: { pk: { S: 'k' } } }) as never);
    expect(aws.inputs('GetItem')[0]).to.deep.equal({ TableName: 't', Key: { pk: { S: 'k' } } });
    expect((output as { Item?: unknown }).Item).to.deep.equal({ pk: { S: 'k' } });
  });

  it('keeps a failed condition\'s item in attribute-value form on the typed error, as the SDK does', async () => {
    aws.on('PutItem', () => {
      const action = awsJsonError('com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException', 400, 'The conditional request failed');
      return action.kind === 'respond' ? { ...action, body: JSON.stringify({ ...JSON.parse(action.body), Item: marshall({ total: 4 }) }) } : action;
    });
    const error = await rejection(dynamoDbDocumentClient(SYNC_TRIGGER_BUDGET).send(new PutCommand({ TableName: 't', Item: { pk: 'k' }, ConditionExpression: 'attribute_not_exists(pk)' })));
    expect(error).to.include({ name: 'ConditionalCheckFailedException', $fault: 'client' });
    expect(error).to.have.deep.property('Item', { total: { N: '4' } });
  });

  it('refuses, naming them, commands it does not send and legacy document parameters, before any request', async () => {
    const db = dynamoDbDocumentClient(SYNC_TRIGGER_BUDGET);
    expect(await rejection(db.send(new ScanCommand({ TableName: 't' }) as never))).to.have.property('message').that.matches(/does not send Scan$/);
    const legacy = new GetCommand({ TableName: 't', Key: { pk: 'k' } });
    Object.assign(legacy.input, { AttributeUpdates: {} });
    expect(await rejection(db.send(legacy))).to.have.property('message').that.matches(/^AttributeUpdates is a legacy DynamoDB parameter/);
    expect(aws.operations()).to.deep.equal([]);
  });

  it('answers StartExecution and AdminGetUser with Dates where the SDK gives Dates', async () => {
    aws.on('StartExecution', () => ({ executionArn: 'arn:x', startDate: 1_700_000_000.5 }));
    aws.on('AdminGetUser', () => ({ Username: 'u', UserCreateDate: 1_600_000_000, UserLastModifiedDate: 1_650_000_000 }));
    const started = await stepFunctionsClient(SYNC_TRIGGER_BUDGET).send(new StartExecutionCommand({ stateMachineArn: 'arn:sm', name: 'n' }));
    expect(started.startDate).to.deep.equal(new Date(1_700_000_000_500));
    const user = await cognitoUserPoolsClient(SYNC_TRIGGER_BUDGET, 'eu-west-1').send(new AdminGetUserCommand({ UserPoolId: 'p', Username: 'u' }));
    expect(user.UserCreateDate).to.deep.equal(new Date(1_600_000_000_000));
    expect(user.UserLastModifiedDate).to.deep.equal(new Date(1_650_000_000_000));
  });

  describe('SES v2 (REST-JSON)', () => {
    let ses: FaultProxy;
    const vars: Record<string, string> = {};
    before(async () => {
      ses = await startFaultProxy('http://127.0.0.1:9');
      vars.AWS_ENDPOINT_URL_SESV2 = ses.url;
    });
    after(() => ses.stop());
    withEnvironment(vars);
    beforeEach(() => ses.log.splice(0));
    const email = { FromEmailAddress: 'Frodo <no-reply@example.com>', Destination: { ToAddresses: ['frodo@gmail.com'] }, Content: { Simple: { Subject: { Data: 'Hi', Charset: 'UTF-8' }, Body: { Text: { Data: 'Hello', Charset: 'UTF-8' } } } } };

    it('sends SendEmail, from the SDK\'s command or the bundles\' class, as POST /v2/email/outbound-emails with the same body', async () => {
      ses.policy = () => ({ kind: 'respond', status: 200, body: JSON.stringify({ MessageId: 'm-1' }) });
      expect(commandOperation(new bundledSes.SendEmailCommand(email))).to.deep.equal({ operation: 'SendEmail', document: false });
      const client = sesV2Client(SYNC_TRIGGER_BUDGET);
      const sent = await client.send(new SendEmailCommand(structuredClone(email)));
      expect(sent.MessageId).to.equal('m-1');
      await client.send(new bundledSes.SendEmailCommand(structuredClone(email)) as unknown as SendEmailCommand);
      expect(ses.log.map((entry) => `${entry.request.method} ${entry.request.url}`)).to.deep.equal(['POST /v2/email/outbound-emails', 'POST /v2/email/outbound-emails']);
      expect(JSON.parse(ses.log[0]!.request.body)).to.deep.equal(email);
      expect(ses.log[1]!.request.body).to.equal(ses.log[0]!.request.body);
    });

    it('rejects with the error SES names, as the SDK would', async () => {
      ses.policy = () => awsRestError('AccountSuspendedException', 400, 'suspended');
      const error = await rejection(sesV2Client(SYNC_TRIGGER_BUDGET).send(new SendEmailCommand(email)));
      expect(error).to.include({ name: 'AccountSuspendedException', message: 'suspended' });
    });
  });
});
