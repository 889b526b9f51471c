/**
 * The floor of a synchronous trigger's cold path: what any trigger that logs and makes one AWS call
 * pays whatever client it uses. It loads what every such trigger loads (the project's logger,
 * `node:tls` for a real endpoint, `node:crypto`, which signing needs, and the HTTP/1.1 transport of
 * `functions/common/http1.ts`, the least HTTP a request can take) and its handler sends one unsigned
 * POST over a kept-alive connection to the DynamoDB endpoint, then logs one line. No signing, no
 * marshalling, no retries, no logic: the bench reports each function's cold path above this.
 */
import { createHash } from 'node:crypto';
import { ConnectionPool } from '../../functions/common/http1.ts';
import { logger } from '../../functions/common/logger.ts';

const endpoint = new URL(process.env.AWS_ENDPOINT_URL_DYNAMODB ?? 'https://dynamodb.us-east-1.amazonaws.com');
const connections = new ConnectionPool({
  protocol: endpoint.protocol === 'http:' ? 'http:' : 'https:',
  hostname: endpoint.hostname,
  ...(endpoint.port ? { port: Number(endpoint.port) } : {}),
});
const body = JSON.stringify({ TableName: 'floor', Key: { pk: { S: 'floor' } } });
// Referenced so the bundle keeps node:crypto loaded, as a signing client's does.
const bodyHash = createHash('sha256').update(body).digest('hex');

export async function handler<T>(event: T): Promise<T> {
  await connections.request({
    method: 'POST',
    path: '/',
    headers: {
      host: endpoint.host,
      'content-type': 'application/x-amz-json-1.0',
      'content-length': String(Buffer.byteLength(body)),
      'x-amz-target': 'DynamoDB_20120810.GetItem',
      'x-amz-content-sha256': bodyHash,
    },
    body,
  }).response;
  logger.info('floor request answered');
  return event;
}
