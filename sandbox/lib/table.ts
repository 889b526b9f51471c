/**
 * Creates the project table in a local DynamoDB (dynalite), with the key schema the stack deploys
 * (infra/data-table.ts: string keys `pk` and `sk`, on demand). The sandbox and the tests that run
 * against dynalite create their tables through this one function, so a change of keys is made once.
 */
import { CreateTableCommand, DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PARTITION_KEY, SORT_KEY } from '../../functions/common/table.ts';

/**
 * Creates `tableName` with the project's keys; resolves once the table is ACTIVE.
 *
 * dynalite answers CreateTable with the table still CREATING and marks it ACTIVE in a later write,
 * even with `createTableMs: 0`; a request that lands in between gets ResourceNotFoundException. On a
 * loaded machine that gap is wide enough to fail a test, so this waits for ACTIVE as
 * `waitUntilTableExists` would, without the SDK waiter's multi-second back-off.
 */
export async function createProjectTable(client: Pick<DynamoDBClient, 'send'>, tableName: string, timeoutMs = 10_000): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: PARTITION_KEY, AttributeType: 'S' },
        { AttributeName: SORT_KEY, AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: PARTITION_KEY, KeyType: 'HASH' },
        { AttributeName: SORT_KEY, KeyType: 'RANGE' },
      ],
    }),
  );
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (Table?.TableStatus === 'ACTIVE') return;
    if (Date.now() > deadline) throw new Error(`table ${tableName} not ACTIVE after ${timeoutMs} ms (status ${Table?.TableStatus})`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
