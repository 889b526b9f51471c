/**
 * `bench/run.ts --experiments`: the measurements behind the choices in scripts/build.ts and the
 * import recommendations in docs/performance.md. Two kinds:
 *
 * - build variants of real functions (one option changed from what ships: source maps and
 *   --enable-source-maps, ESM, keepNames, target, main fields, minify, environment-only credentials);
 * - import probes: a handler that imports one library the way a function would, built the way we
 *   ship, so each library's cold-load cost is visible on its own.
 *
 * Every variant is loaded in fresh processes, interleaved with bare `node -e 0` and shuffled per
 * round, like the main benchmark, and reported as load time above bare node.
 */
import { build, type BuildOptions } from 'esbuild';
import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { FunctionName } from '../../functions/catalog.ts';
import { entryPoints, environmentCredentialsOnly, platformKeyEncoding, platformPointDecompression, productionOptions, zipDirectory } from '../../scripts/build.ts';
import { repoRoot } from './builds.ts';
import { timeBareNode, timeLoad, type ProcessSample } from './cold.ts';
import { functionEnv } from './env.ts';
import { median, round, shuffled } from './stats.ts';
import { startStubServer } from './stub-server.ts';
import { measureWarm } from './warm.ts';

interface Variant {
  readonly id: string;
  readonly description: string;
  /** The function whose environment the load runs with. */
  readonly env: FunctionName;
  readonly options: BuildOptions;
  readonly nodeFlags?: readonly string[];
  readonly afterLoad?: string;
  /** Reuse another variant's bundle (same build, different flags). */
  readonly sameBundleAs?: string;
}

export interface VariantResult {
  id: string;
  description: string;
  indexBytes: number;
  mapBytes: number;
  zipBytes: number;
  aboveNodeMs: number;
  medianMs: number;
  requireMedianMs: number;
  cpuAboveNodeMs: number;
  error?: string;
}

export interface ExperimentsResult {
  baselineMedianMs: number;
  baselineCpuMedianMs: number;
  rounds: number;
  variants: VariantResult[];
  /** Warm cost of one log line, from handlers that differ only in how they log. */
  logging?: Record<string, { p50Ms: number; p99Ms: number }>;
}

const STACK = "new Error('probe').stack";
const ESM_BANNER = "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);";

function functionVariants(name: FunctionName, dir: string): Variant[] {
  const out = (id: string) => path.join(dir, `${name}~${id}`);
  const prod = (id: string, extra: Partial<BuildOptions> = {}): BuildOptions => ({
    ...productionOptions(entryPoints([name]), out(id)),
    entryNames: 'index',
    metafile: false,
    logLevel: 'silent',
    ...extra,
  });
  const v = (id: string, description: string, options: BuildOptions, more: Partial<Variant> = {}): Variant => ({
    id: `${name}:${id}`,
    description,
    env: name,
    options,
    ...more,
  });
  return [
    v('shipped', 'as shipped (cjs, minified, module main fields, node22, environment-only credentials, .map beside the zip)', prod('shipped')),
    v('shipped+stack', 'as shipped, then format one Error stack', prod('shipped'), { sameBundleAs: `${name}:shipped`, afterLoad: STACK }),
    v('enable-source-maps', 'as shipped, run with --enable-source-maps', prod('shipped'), { sameBundleAs: `${name}:shipped`, nodeFlags: ['--enable-source-maps'] }),
    v('enable-source-maps+stack', 'as shipped, --enable-source-maps, then format one Error stack', prod('shipped'), {
      sameBundleAs: `${name}:shipped`,
      nodeFlags: ['--enable-source-maps'],
      afterLoad: STACK,
    }),
    v('no-sourcemap', 'no source map at all', prod('no-sourcemap', { sourcemap: false })),
    v('esm', "format 'esm' (.mjs), createRequire banner", prod('esm', { format: 'esm', outExtension: { '.js': '.mjs' }, banner: { js: ESM_BANNER } })),
    v('keep-names', 'keepNames: true', prod('keep-names', { keepNames: true })),
    v('target-es2020', "target 'es2020' instead of node22", prod('target-es2020', { target: 'es2020' })),
    v('cjs-main-fields', "esbuild's default main fields (the SDK's CommonJS builds)", prod('cjs-main-fields', { mainFields: ['main', 'module'] })),
    v('no-minify', 'minify: false', prod('no-minify', { minify: false })),
    v('node-stream', "@aws-crypto's readable-stream resolved to node:stream (not shipped: stream semantics differ)", prod('node-stream', { alias: { 'readable-stream': 'node:stream' } })),
    v('full-credential-chain', "the SDK's whole default credential chain (no environment-only substitution)", prod('full-credential-chain', { plugins: [platformPointDecompression(), platformKeyEncoding()] })),
    v(
      'library-point-decompression',
      "@aws-crypto/material-management's own ecc_decode (bn.js Montgomery set-up at load) instead of OpenSSL's",
      prod('library-point-decompression', { plugins: [environmentCredentialsOnly(), platformKeyEncoding()] }),
    ),
    v(
      'library-key-encoding',
      "@aws-crypto's own pem_helpers and ecdsa_signature (asn1.js and a second bn.js at load) instead of OpenSSL's PEM",
      prod('library-key-encoding', { plugins: [environmentCredentialsOnly(), platformPointDecompression()] }),
    ),
  ];
}

/** One-library handlers; each imports what a function would and touches it at module scope. */
const PROBES: Record<string, { description: string; source: string }> = {
  empty: { description: 'empty handler', source: 'export const handler = async () => null;' },
  'powertools-logger': {
    description: '@aws-lambda-powertools/logger, one Logger',
    source: "import { Logger } from '@aws-lambda-powertools/logger'; const l = new Logger(); export const handler = async () => l.info('x');",
  },
  'dynamodb-document-client': {
    description: '@aws-sdk/client-dynamodb + lib-dynamodb document client',
    source:
      "import { DynamoDBClient } from '@aws-sdk/client-dynamodb'; import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb'; const c = DynamoDBDocumentClient.from(new DynamoDBClient({})); export const handler = async () => c.send(new PutCommand({ TableName: 't', Item: {} }));",
  },
  'dynamodb-client': {
    description: '@aws-sdk/client-dynamodb alone',
    source: "import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb'; const c = new DynamoDBClient({}); export const handler = async () => c.send(new PutItemCommand({ TableName: 't', Item: {} }));",
  },
  'sesv2-client': {
    description: '@aws-sdk/client-sesv2',
    source: "import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2'; const c = new SESv2Client({}); export const handler = async () => c.send(new SendEmailCommand({}));",
  },
  'sfn-client': {
    description: '@aws-sdk/client-sfn',
    source: "import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn'; const c = new SFNClient({}); export const handler = async () => c.send(new StartExecutionCommand({ stateMachineArn: 'x' }));",
  },
  'cognito-client': {
    description: '@aws-sdk/client-cognito-identity-provider',
    source:
      "import { CognitoIdentityProviderClient, AdminGetUserCommand } from '@aws-sdk/client-cognito-identity-provider'; const c = new CognitoIdentityProviderClient({}); export const handler = async () => c.send(new AdminGetUserCommand({ UserPoolId: 'x', Username: 'y' }));",
  },
  'kms-client': {
    description: '@aws-sdk/client-kms',
    source: "import { KMSClient, DecryptCommand } from '@aws-sdk/client-kms'; const c = new KMSClient({}); export const handler = async () => c.send(new DecryptCommand({ CiphertextBlob: new Uint8Array() }));",
  },
  'aws-crypto-narrow': {
    description: '@aws-crypto/decrypt-node + kms-keyring-node + material-management-node (narrow)',
    source:
      "import { buildDecrypt } from '@aws-crypto/decrypt-node'; import { KmsKeyringNode } from '@aws-crypto/kms-keyring-node'; import { CommitmentPolicy } from '@aws-crypto/material-management-node'; const { decrypt } = buildDecrypt({ commitmentPolicy: CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT }); export const handler = async () => [decrypt, KmsKeyringNode];",
  },
  'aws-crypto-client-node': {
    description: '@aws-crypto/client-node (package index)',
    source:
      "import { buildClient, KmsKeyringNode, CommitmentPolicy } from '@aws-crypto/client-node'; const { decrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT); export const handler = async () => [decrypt, KmsKeyringNode];",
  },
  'powertools-idempotency': {
    description: '@aws-lambda-powertools/idempotency + DynamoDB persistence',
    source:
      "import { makeIdempotent } from '@aws-lambda-powertools/idempotency'; import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb'; const p = new DynamoDBPersistenceLayer({ tableName: 't' }); export const handler = makeIdempotent(async () => null, { persistenceStore: p });",
  },
  'powertools-secrets': {
    description: '@aws-lambda-powertools/parameters/secrets SecretsProvider',
    source: "import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets'; const p = new SecretsProvider(); export const handler = async () => p.get('x');",
  },
  'secrets-manager-client': {
    description: '@aws-sdk/client-secrets-manager alone',
    source:
      "import { SecretsManagerClient, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager'; const c = new SecretsManagerClient({}); export const handler = async () => c.send(new GetSecretValueCommand({ SecretId: 'x' }));",
  },
  'sender-libraries': {
    description: "a sender's libraries and nothing else: narrow @aws-crypto + KMS, idempotency on DynamoDB, Secrets Manager, Logger",
    source:
      "import { buildDecrypt } from '@aws-crypto/decrypt-node'; import { KmsKeyringNode } from '@aws-crypto/kms-keyring-node'; import { CommitmentPolicy } from '@aws-crypto/material-management-node'; import { KMSClient } from '@aws-sdk/client-kms'; import { DynamoDBClient } from '@aws-sdk/client-dynamodb'; import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager'; import { makeIdempotent } from '@aws-lambda-powertools/idempotency'; import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb'; import { Logger } from '@aws-lambda-powertools/logger'; const l = new Logger(); const { decrypt } = buildDecrypt({ commitmentPolicy: CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT }); const k = new KmsKeyringNode({ generatorKeyId: 'arn:aws:kms:us-east-1:123456789012:key/x', clientProvider: () => new KMSClient({}) }); const p = new DynamoDBPersistenceLayer({ tableName: 't', awsSdkV3Client: new DynamoDBClient({}) }); const sm = new SecretsManagerClient({}); export const handler = makeIdempotent(async () => [decrypt, k, sm, l], { persistenceStore: p });",
  },
  'three-sdk-clients': {
    description: 'KMS + DynamoDB + Secrets Manager clients together (what the SDK alone costs a sender)',
    source:
      "import { KMSClient } from '@aws-sdk/client-kms'; import { DynamoDBClient } from '@aws-sdk/client-dynamodb'; import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager'; const c = [new KMSClient({}), new DynamoDBClient({}), new SecretsManagerClient({})]; export const handler = async () => c;",
  },
  twilio: {
    description: 'twilio (package index), one client',
    source: "import twilio from 'twilio'; const c = twilio('AC00000000000000000000000000000000', 'token'); export const handler = async () => c.messages;",
  },
  'sendgrid-mail': {
    description: '@sendgrid/mail',
    source: "import mail from '@sendgrid/mail'; mail.setApiKey('SG.x'); export const handler = async () => mail.send;",
  },
};

function probeVariants(dir: string): Variant[] {
  return Object.entries(PROBES).map(([id, probe]) => {
    const outdir = path.join(dir, `probe~${id}`);
    const options: BuildOptions = {
      ...productionOptions({}, outdir),
      entryPoints: undefined,
      stdin: { contents: probe.source, resolveDir: repoRoot, sourcefile: `${id}.ts`, loader: 'ts' },
      outdir: undefined,
      outfile: path.join(outdir, 'index.js'),
      entryNames: undefined,
      metafile: false,
      logLevel: 'silent',
    };
    return { id: `probe:${id}`, description: probe.description, env: 'pre-token-generation' as FunctionName, options };
  });
}

async function size(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch {
    return 0;
  }
}

function bundleOf(variant: Variant): string {
  const o = variant.options;
  const dir = o.outfile ? path.dirname(o.outfile) : o.outdir!;
  return path.join(dir, o.format === 'esm' ? 'index.mjs' : 'index.js');
}

/** Builds every variant and probe under `dir`, then measures them interleaved for `rounds` rounds. */
export async function runExperiments(dir: string, rounds: number, invocations: number, log: (m: string) => void): Promise<ExperimentsResult> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const variants = [...(['pre-authentication', 'custom-email-sender'] as const).flatMap((n) => functionVariants(n, dir)), ...probeVariants(dir)];
  const byId = new Map(variants.map((v) => [v.id, v]));
  const results = new Map<string, VariantResult>();
  for (const v of variants) {
    const source = v.sameBundleAs ? byId.get(v.sameBundleAs)! : v;
    const bundle = bundleOf(source);
    const r: VariantResult = { id: v.id, description: v.description, indexBytes: 0, mapBytes: 0, zipBytes: 0, aboveNodeMs: Number.NaN, medianMs: Number.NaN, requireMedianMs: Number.NaN, cpuAboveNodeMs: Number.NaN };
    try {
      if (!v.sameBundleAs) {
        await build(v.options);
        // Zipped as shipped: the bundle alone, the map stays outside.
        await zipDirectory(path.dirname(bundle), `${path.dirname(bundle)}.zip`, (file) => !file.endsWith('.map'));
      }
      r.indexBytes = await size(bundle);
      r.mapBytes = await size(`${bundle}.map`);
      r.zipBytes = await size(`${path.dirname(bundle)}.zip`);
    } catch (error) {
      r.error = `build: ${(error as Error).message.slice(0, 300)}`;
    }
    results.set(v.id, r);
  }
  log(`experiments: built ${variants.length} variants`);

  const samples = new Map<string, ProcessSample[]>();
  const baseline: ProcessSample[] = [];
  const bareEnv = functionEnv('pre-token-generation');
  for (let round = 0; round <= rounds; round++) {
    for (const v of shuffled(variants, 0xe5 + round)) {
      const r = results.get(v.id)!;
      if (r.error) continue;
      const bare = await timeBareNode(bareEnv);
      try {
        const source = v.sameBundleAs ? byId.get(v.sameBundleAs)! : v;
        const sample = await timeLoad(bundleOf(source), {
          env: functionEnv(v.env),
          ...(v.nodeFlags ? { nodeFlags: v.nodeFlags } : {}),
          ...(v.afterLoad ? { afterLoad: v.afterLoad } : {}),
        });
        // Round 0 warms the page cache and is discarded.
        if (round > 0) {
          baseline.push(bare);
          samples.set(v.id, [...(samples.get(v.id) ?? []), sample]);
        }
      } catch (error) {
        r.error = `load: ${(error as Error).message.slice(0, 300)}`;
      }
    }
    log(`experiments: round ${round + 1}/${rounds + 1}`);
  }
  const baselineMedianMs = median(baseline.map((b) => b.wallMs));
  const baselineCpuMedianMs = median(baseline.map((b) => b.cpuMs));
  for (const [id, list] of samples) {
    const r = results.get(id)!;
    const med = median(list.map((s) => s.wallMs));
    r.medianMs = round(med);
    r.aboveNodeMs = round(med - baselineMedianMs);
    r.requireMedianMs = round(median(list.map((s) => s.loadMs ?? Number.NaN)));
    r.cpuAboveNodeMs = round(median(list.map((s) => s.cpuMs)) - baselineCpuMedianMs);
  }

  // Warm cost of logging: the same trivial handler with no log line, a Powertools line, a console JSON line.
  const logging: Record<string, { p50Ms: number; p99Ms: number }> = {};
  const logHandlers: Record<string, string> = {
    'no-log': 'export const handler = async (e) => e;',
    'powertools-logger-info': "import { Logger } from '@aws-lambda-powertools/logger'; const l = new Logger(); export const handler = async (e) => { l.info('sign-in recorded', { user: 'abc123', outcome: 'ok' }); return e; };",
    'console-json-line': "export const handler = async (e) => { process.stdout.write(JSON.stringify({ level: 'INFO', message: 'sign-in recorded', timestamp: new Date().toISOString(), user: 'abc123', outcome: 'ok' }) + '\\n'); return e; };",
  };
  const stub = await startStubServer();
  try {
    for (const [id, source] of Object.entries(logHandlers)) {
      const outfile = path.join(dir, `log~${id}`, 'index.js');
      await build({
        ...productionOptions({}, path.dirname(outfile)),
        entryPoints: undefined,
        outdir: undefined,
        entryNames: undefined,
        outfile,
        metafile: false,
        stdin: { contents: source, resolveDir: repoRoot, sourcefile: `${id}.ts`, loader: 'ts' },
      });
      const warm = await measureWarm('pre-token-generation', outfile, { ping: true }, stub, invocations);
      logging[id] = { p50Ms: warm.p50Ms, p99Ms: warm.p99Ms };
    }
  } finally {
    await stub.close();
  }
  return { baselineMedianMs: round(baselineMedianMs), baselineCpuMedianMs: round(baselineCpuMedianMs), rounds, variants: [...results.values()], logging };
}
