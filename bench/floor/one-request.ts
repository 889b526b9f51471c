/**
 * The floor of a synchronous trigger's cold path: what any trigger that logs and makes one AWS call
 * pays whatever client it uses. It loads what every such trigger loads (the project's logger,
 * `node:https` for a real endpoint and `node:crypto`, which signing needs) and its handler sends one
 * unsigned POST over a keep-alive agent to the DynamoDB endpoint, then logs one line. No signing, no
 * marshalling, no retries, no logic: the bench reports each function's cold path above this.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { logger } from '../../functions/common/logger.ts';

const endpoint = new URL(process.env.AWS_ENDPOINT_URL_DYNAMODB ?? 'https://dynamodb.us-east-1.amazonaws.com');
const transport = endpoint.protocol === 'https:' ? https : http;
const agent = new transport.Agent({ keepAlive: true });
const body = JSON.stringify({ TableName: 'floor', Key: { pk: { S: 'floor' } } });
// Referenced so the bundle keeps node:crypto loaded, as a signing client's does.
const bodyHash = createHash('sha256').update(body).digest('hex');

export async function handler<T>(event: T): Promise<T> {
  await new Promise<void>((resolve, reject) => {
    const request = transport.request(
      {
        hostname: endpoint.hostname,
        port: endpoint.port,
        method: 'POST',
        path: '/',
        agent,
        headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.GetItem', 'x-amz-content-sha256': bodyHash },
      },
      (response) => {
        response.resume();
        response.on('end', resolve);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
  logger.info('floor request answered');
  return event;
}
