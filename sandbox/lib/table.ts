/**
 * Creates the project table in a local DynamoDB (dynalite), with the key schema the stack deploys
 * (infra/data-table.ts: string keys `pk` and `sk`, on demand). The sandbox and the tests that run
 * against dynalite create their tables through this one function, so a change of keys is made once.
 */
import { CreateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** Creates `tableName` with the project's keys; resolves once the table exists. */
export async function createProjectTable(client: Pick<DynamoDBClient, 'send'>, tableName: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    }),
  );
}
