/**
 * The machine-calibration workload: a DynamoDB client created at module scope, nothing else.
 *
 * The performance budgets state, for the machine their absolute caps were set on, what this exact
 * workload costs to load: 45–50 ms built tree-shaken (bundled, minified, the SDK's ES-module
 * builds) and 85–100 ms built with esbuild's defaults. bench/lib/calibration.ts builds it both ways
 * in every run, so the run can tell how fast its machine is compared with that one. It must stay
 * exactly this small: any change would move the reference it is compared with.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

const client = new DynamoDBClient({});

export const handler = async (): Promise<unknown> => client.config.region;
