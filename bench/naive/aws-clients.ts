/**
 * The naive baseline's version of functions/common/aws-clients.ts: the same factories over the AWS
 * SDK's own clients, configured as every other function's (functions/common/aws.ts). A first
 * implementation builds SDK clients; the benchmark measures the synchronous triggers' own client
 * against that. Never shipped: bench/lib/builds.ts resolves our module to this one in the naive build only.
 */
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, type TranslateConfig } from '@aws-sdk/lib-dynamodb';
import { clientConfig } from '../../functions/common/aws.ts';
import type { ClientBudget } from '../../functions/common/budgets.ts';

export function dynamoDbDocumentClient(budget: ClientBudget, translateConfig: TranslateConfig = {}): Pick<DynamoDBDocumentClient, 'send'> {
  return DynamoDBDocumentClient.from(new DynamoDBClient(clientConfig(budget)), translateConfig);
}

export function stepFunctionsClient(budget: ClientBudget): Pick<SFNClient, 'send'> {
  return new SFNClient(clientConfig(budget));
}

export function cognitoUserPoolsClient(budget: ClientBudget, region?: string): Pick<CognitoIdentityProviderClient, 'send'> {
  return new CognitoIdentityProviderClient({ ...(region ? { region } : {}), ...clientConfig(budget) });
}

export function sesV2Client(budget: ClientBudget): Pick<SESv2Client, 'send'> {
  return new SESv2Client(clientConfig(budget));
}
