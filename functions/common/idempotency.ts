/**
 * The one Powertools idempotency store every function that must act once uses: the project table,
 * `pk` = `idempotency#<function>`, `sk` = the hashed key, TTL `expiresAt` (see ./table.ts).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { BACKGROUND_BUDGET, clientConfig } from './aws.ts';
import { PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE } from './table.ts';

/**
 * Powertools Idempotency over the project table. Pass the function's own DynamoDB client to share
 * its connections; otherwise one is built with the background budget.
 */
export function idempotencyStore(tableName: string, client: DynamoDBClient = new DynamoDBClient(clientConfig(BACKGROUND_BUDGET))): DynamoDBPersistenceLayer {
  return new DynamoDBPersistenceLayer({
    tableName,
    keyAttr: PARTITION_KEY,
    sortKeyAttr: SORT_KEY,
    expiryAttr: TTL_ATTRIBUTE,
    awsSdkV3Client: client,
  });
}
