/**
 * What the stock-client suites share: a sandbox started as `make sandbox` would start it (minus
 * fixed ports), an admin client for setting up users, and reads of what the user would receive.
 */
import {
  AdminCreateUserCommand,
  AdminGetUserCommand,
  AdminSetUserPasswordCommand,
  CognitoIdentityProviderClient,
  type AdminGetUserCommandOutput,
} from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { startSandbox, type Sandbox } from '../../../sandbox/index.ts';
import type { FunctionName } from '../../../functions/catalog.ts';
import { ENV } from '../../../functions/common/config.ts';
import { codeIn } from '../../fixtures/sandbox.ts';

export interface ClientSandbox {
  readonly sandbox: Sandbox;
  readonly admin: CognitoIdentityProviderClient;
  readonly dynamo: DynamoDBClient;
  readonly userPoolId: string;
  readonly clientId: string;
  readonly endpoint: string;
  /** The newest code mailed to `email` after `after` earlier mails (waits for it). */
  codeMailed(email: string, after?: number): Promise<string>;
  /** How many mails with a code `email` has had so far. */
  mailsTo(email: string): number;
  /** A confirmed user with a permanent password, created by an administrator. */
  createUser(email: string, password: string, attributes?: Record<string, string>, poolId?: string): Promise<void>;
  getUser(username: string): Promise<AdminGetUserCommandOutput>;
  /** How often the function invocations reached it so far. */
  invocations(name: FunctionName): number;
  /** The sign-ins post-authentication recorded for a user. */
  signInsRecorded(sub: string): Promise<number>;
  stop(): Promise<void>;
}

export async function startClientSandbox(): Promise<ClientSandbox> {
  const sandbox = await startSandbox({ waits: 'manual' });
  const { userPoolId, clientId, endpoint } = sandbox.endpoints.cognito;
  const admin = new CognitoIdentityProviderClient({ region: sandbox.endpoints.region, endpoint, credentials: sandbox.credentials, maxAttempts: 1 });
  const dynamo = new DynamoDBClient({ region: sandbox.endpoints.region, endpoint: sandbox.endpoints.dynamodb.endpoint, credentials: sandbox.credentials });
  const mails = (email: string) => sandbox.stores.sendgrid().filter((m) => m.to === email);
  return {
    sandbox,
    admin,
    dynamo,
    userPoolId,
    clientId,
    endpoint,
    mailsTo: (email) => mails(email).length,
    codeMailed: async (email, after = 0) => {
      await sandbox.stores.waitFor('sendgrid', () => mails(email).length > after);
      return codeIn(mails(email).at(-1)!);
    },
    createUser: async (email, password, attributes = {}, poolId = userPoolId) => {
      const UserAttributes = Object.entries({ email, email_verified: 'true', ...attributes }).map(([Name, Value]) => ({ Name, Value }));
      await admin.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username: email, UserAttributes, MessageAction: 'SUPPRESS', TemporaryPassword: 'Temporary-Pass-1' }));
      await admin.send(new AdminSetUserPasswordCommand({ UserPoolId: poolId, Username: email, Password: password, Permanent: true }));
    },
    getUser: (username) => admin.send(new AdminGetUserCommand({ UserPoolId: userPoolId, Username: username })),
    invocations: (name) => sandbox.lambda.invocations.filter((i) => i.function === name).length,
    signInsRecorded: async (sub) =>
      (
        await dynamo.send(
          new QueryCommand({ TableName: sandbox.endpoints.dynamodb.tableName, KeyConditionExpression: 'pk = :pk AND begins_with(sk, :login)', ExpressionAttributeValues: { ':pk': { S: `USER#${sub}` }, ':login': { S: 'LOGIN#' } }, ConsistentRead: true }),
        )
      ).Count ?? 0,
    stop: async () => {
      admin.destroy();
      dynamo.destroy();
      await sandbox.stop();
    },
  };
}

/** The lockout's settings as the sandbox deployed them. */
export function lockout(sandbox: Sandbox): { maxAttempts: number; lockSeconds: number } {
  const env = sandbox.stack.functions.find((f) => f.name === 'pre-authentication')!.environment;
  return { maxAttempts: Number(env[ENV.lockoutMaxAttempts]), lockSeconds: Number(env[ENV.lockoutDurationSeconds]) };
}
