/**
 * What keying the log fingerprints would cost a synchronous trigger's cold start (docs/functions.md,
 * "Log fingerprints"). The only key that is in no log, Lambda environment, Terraform state or plan is one
 * that never leaves KMS: an HMAC key (`HMAC_256`) from which each cold start derives its fingerprint key
 * with one `GenerateMac` call. This measures that design against what pre-authentication loads today:
 *
 * - `plain`: the DynamoDB document client and the Logger, one counting write per invocation, fingerprints
 *   by SHA-256 (as shipped);
 * - `keyed`: the same plus a KMS client whose `GenerateMac` starts at module scope and runs alongside the
 *   first invocation's write, fingerprints by HMAC-SHA-256 under the derived key.
 *
 * Both are built with the production options and loaded in fresh processes, interleaved with bare node.
 * KMS is a local HTTPS stand-in, so the figures count the CPU of loading the client, signing the request
 * and the TLS handshake, but not the network round trip to KMS in a region (not measurable offline).
 * Figures are CPU milliseconds (medians) and the keyed build's ratio to the plain one in the same run.
 *
 *   node --import tsx bench/fingerprint-key.ts [--rounds 21]
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { productionOptions } from '../scripts/build.ts';
import { lambdaNode } from '../sandbox/lambda/node.ts';
import { median, round, shuffled } from './lib/stats.ts';

// Both make pre-authentication's one DynamoDB call (over HTTPS, to the stand-in), so the difference is the KMS call alone.
const CLIENTS =
  "import { DynamoDBClient } from '@aws-sdk/client-dynamodb'; import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb'; import { Logger } from '@aws-lambda-powertools/logger';" +
  " const db = DynamoDBDocumentClient.from(new DynamoDBClient({})); const logger = new Logger(); const count = () => db.send(new UpdateCommand({ TableName: 't', Key: { pk: 'LOCKOUT#x', sk: 'STATE' }, UpdateExpression: 'ADD attempts :one', ExpressionAttributeValues: { ':one': 1 } }));";
const SOURCES: Record<string, string> = {
  plain: `${CLIENTS} import { createHash } from 'node:crypto'; export const handler = async (e) => { await count(); logger.info('attempt', { login: createHash('sha256').update(e.login).digest('hex').slice(0, 16) }); };`,
  keyed:
    `${CLIENTS} import { createHmac } from 'node:crypto'; import { KMSClient, GenerateMacCommand } from '@aws-sdk/client-kms';` +
    " const kms = new KMSClient({}); const key = kms.send(new GenerateMacCommand({ KeyId: 'alias/log-fingerprints', MacAlgorithm: 'HMAC_SHA_256', Message: new TextEncoder().encode('log-fingerprint-v1') })).then((r) => r.Mac);" +
    " key.catch(() => undefined); export const handler = async (e) => { const [k] = await Promise.all([key, count()]); logger.info('attempt', { login: createHmac('sha256', k).update(e.login).digest('hex').slice(0, 16) }); };",
};

const CPU = '(({user,system})=>(user+system)/1e3)(process.cpuUsage())';

/** The child: load the bundle, then run one invocation; report load CPU, and the invocation's wall and CPU time. */
function childScript(bundle: string): string {
  return (
    `const t0=process.hrtime.bigint();const m=require(${JSON.stringify(bundle)});const load=${CPU};` +
    `const c0=${CPU};const t1=process.hrtime.bigint();m.handler({login:'frodo@gmail.com'}).then(()=>{` +
    `const first=Number(process.hrtime.bigint()-t1)/1e6;process.stdout.write(JSON.stringify({load,first,firstCpu:${CPU}-c0}));process.exit(0)},(e)=>{console.error(e);process.exit(2)})`
  );
}

function run(node: string, args: string[], env: Record<string, string>): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const child = spawn(node, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as Record<string, number>) : reject(new Error(`exit ${code}: ${err.slice(0, 500)}`))));
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rounds: { type: 'string', default: '21' } } });
  const rounds = Number(values.rounds);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fingerprint-key-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '1', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' });
    const server = https.createServer({ key: readFileSync(path.join(dir, 'key.pem')), cert: readFileSync(path.join(dir, 'cert.pem')) }, (req, res) => {
      req.resume().on('end', () => {
        const kms = String(req.headers['x-amz-target']).startsWith('TrentService');
        const body = kms ? { KeyId: 'arn:aws:kms:us-east-1:123456789012:key/x', MacAlgorithm: 'HMAC_SHA_256', Mac: Buffer.alloc(32, 7).toString('base64') } : {};
        res.writeHead(200, { 'content-type': kms ? 'application/x-amz-json-1.1' : 'application/x-amz-json-1.0' }).end(JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const bundles: Record<string, string> = {};
    for (const [id, contents] of Object.entries(SOURCES)) {
      const outfile = path.join(dir, id, 'index.js');
      await build({ ...productionOptions({}, path.dirname(outfile)), entryPoints: undefined, outdir: undefined, entryNames: undefined, outfile, metafile: false, stdin: { contents, resolveDir: path.resolve(import.meta.dirname, '..'), sourcefile: `${id}.ts`, loader: 'ts' } });
      bundles[id] = outfile;
    }
    const node = lambdaNode();
    const env = {
      PATH: process.env.PATH ?? '',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
      AWS_ENDPOINT_URL_KMS: `https://127.0.0.1:${port}`,
      AWS_ENDPOINT_URL_DYNAMODB: `https://127.0.0.1:${port}`,
      // The stand-in's self-signed certificate is trusted as an extra CA, so the handshakes verify it as they would KMS's.
      NODE_EXTRA_CA_CERTS: path.join(dir, 'cert.pem'),
      NODE_NO_WARNINGS: '1',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
    };
    const samples: Record<string, Array<Record<string, number>>> = { bare: [], plain: [], keyed: [] };
    for (let r = 0; r <= rounds; r++) {
      for (const id of shuffled(['bare', 'plain', 'keyed'], r + 1)) {
        const args = id === 'bare' ? ['-e', `process.stdout.write(JSON.stringify({load:${CPU},first:0,firstCpu:0}))`] : ['-e', childScript(bundles[id]!)];
        const sample = await run(node, args, env);
        if (r > 0) samples[id]!.push(sample);
      }
    }
    server.closeAllConnections();
    server.close();
    const bare = median(samples.bare!.map((s) => s.load!));
    const figures = (id: 'plain' | 'keyed') => ({
      bytes: readFileSync(bundles[id]!).length,
      loadCpuAboveNodeMs: round(median(samples[id]!.map((s) => s.load!)) - bare),
      firstInvocationMs: round(median(samples[id]!.map((s) => s.first!))),
      firstInvocationCpuMs: round(median(samples[id]!.map((s) => s.firstCpu!))),
    });
    const plain = figures('plain');
    const keyed = figures('keyed');
    const ratio = (key: keyof typeof plain) => round(keyed[key] / plain[key]);
    const summary = {
      rounds,
      bareNodeCpuMs: round(bare),
      plain,
      keyed,
      keyedOverPlain: { bytes: ratio('bytes'), loadCpuAboveNode: ratio('loadCpuAboveNodeMs'), firstInvocation: ratio('firstInvocationMs'), firstInvocationCpu: ratio('firstInvocationCpuMs') },
      coldPathCpuAddedMs: round(keyed.loadCpuAboveNodeMs + keyed.firstInvocationCpuMs - plain.loadCpuAboveNodeMs - plain.firstInvocationCpuMs),
    };
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
