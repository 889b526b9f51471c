/**
 * The local sandbox as a library: `startSandbox(options)` starts every component on 127.0.0.1 and
 * returns its endpoints, its message stores and `stop()`. `make demo`, `make sandbox`, the end-to-end
 * tests and the reliability suite all start it through here.
 *
 * Components: cognito-local behind the Cognito proxy (sandbox/cognito), the Lambda host running the
 * bundles from dist/ (sandbox/lambda), dynalite behind a proxy that adds the table's stream, the event
 * source mappings reading it (sandbox/dynamodb, sandbox/lambda), aws-ses-v2-local (a child process), and the KMS,
 * Secrets Manager, Step Functions, SendGrid and Twilio stand-ins, and the console: a web page showing the
 * messages, users, locks and workflows (sandbox/console). Every child process is killed by `stop()`, and
 * also when the owning process exits, so none outlives its command.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ENV, readLockout } from '../functions/common/config.ts';
import { clearLockout } from '../functions/common/lockout.ts';
import { CognitoBackend, invokeLambda } from './cognito/backend.ts';
import { CognitoProxy } from './cognito/proxy.ts';
import { SandboxConsole } from './console/server.ts';
import { ConsoleSnapshots, reminderWaits } from './console/state.ts';
import { TableStreamProxy } from './dynamodb/stream.ts';
import { EventSourceMappings } from './lambda/event-source-mapping.ts';
import { LocalKms } from './kms.ts';
import { LambdaHost, type LogLine } from './lambda/host.ts';
import { LOOPBACK, listen, waitFor, type Listening } from './lib/http.ts';
import { Providers, type ProviderCredentials, type StoredMessage } from './providers.ts';
import { LocalSecretsManager } from './secrets.ts';
import { LocalStepFunctions } from './sfn.ts';
import { loadStack, ROOT, type LoadStackOptions, type SandboxStack } from './stack.ts';
import { createProjectTable } from './lib/table.ts';

const require = createRequire(import.meta.url);

/** Fixed ports for `make sandbox`; 0 (the default everywhere else) picks free ones. */
export interface SandboxPorts {
  cognito: number;
  dynamodb: number;
  ses: number;
  lambda: number;
  kms: number;
  secretsManager: number;
  stepFunctions: number;
  providers: number;
  console: number;
}

export interface SandboxOptions extends LoadStackOptions {
  readonly ports?: Partial<SandboxPorts>;
  /** `manual`: workflow waits last until `workflows.fastForward()` (demo, tests); `asl`: as rendered. Default `asl`. */
  readonly waits?: 'asl' | 'manual';
  /** Multiplies the rendered wait seconds when `waits` is `asl`. Default 1. */
  readonly waitScale?: number;
  /** Provider credentials stored in the local Secrets Manager and checked by the stand-ins. */
  readonly credentials?: ProviderCredentials;
  /** Start one environment per function before returning. Default true. */
  readonly prewarm?: boolean;
  readonly maxEnvironmentsPerFunction?: number;
  /** Pauses between Lambda's async retries of the senders. Default [200, 400] ms. */
  readonly asyncRetryDelaysMs?: readonly number[];
  /** Pause before an event source mapping retries a failed batch. Default 100 ms. */
  readonly streamRetryDelayMs?: number;
  /** Multiplies the mappings' batching windows (0: invoke as soon as a record arrives). Default 1. */
  readonly batchingWindowScale?: number;
  /** Every line the functions log. */
  readonly onLog?: (line: LogLine) => void;
  /** Changes a function's environment (fault injection: point one service elsewhere). */
  readonly environmentOverride?: (name: string, env: Record<string, string>) => Record<string, string>;
  /** Bundles folder. Default dist/. */
  readonly distDir?: string;
}

/** `.sandbox/endpoints.json`: the shape tools and clients rely on. */
export interface SandboxEndpoints {
  region: string;
  cognito: { endpoint: string; userPoolId: string; clientId: string; legacyUserPoolId: string; legacyClientId: string };
  dynamodb: { endpoint: string; tableName: string };
  /** The local Lambda host's Invoke API (`AWS_ENDPOINT_URL_LAMBDA` for operator commands such as `make resend-welcome`). */
  lambda: { endpoint: string };
  stores: { sendgrid: string; twilio: string; ses: string };
  /** The console page: messages with their codes, users and their locks, reminder workflows. */
  console: { url: string };
}

/** The messages each channel delivered, oldest first. */
export interface SandboxStores {
  sendgrid(): StoredMessage[];
  twilio(): StoredMessage[];
  ses(): Promise<StoredMessage[]>;
  /** SMS that Cognito itself delivered (the `cognito` delivery mode), standing in for SNS. */
  sns(): StoredMessage[];
  /** Waits until a store holds a message matching `match`, and returns it. */
  waitFor(store: 'sendgrid' | 'twilio' | 'ses' | 'sns', match: (m: StoredMessage) => boolean, timeoutMs?: number): Promise<StoredMessage>;
}

export interface Sandbox {
  readonly stack: SandboxStack;
  readonly endpoints: SandboxEndpoints;
  readonly stores: SandboxStores;
  /** Endpoint URLs of every service, including those not in endpoints.json. */
  readonly urls: Record<'cognito' | 'dynamodb' | 'ses' | 'lambda' | 'kms' | 'secretsManager' | 'stepFunctions' | 'providers' | 'console', string>;
  readonly lambda: LambdaHost;
  readonly workflows: LocalStepFunctions;
  readonly kms: LocalKms;
  readonly secrets: LocalSecretsManager;
  readonly providers: Providers;
  readonly cognito: CognitoProxy;
  /** The console page's server (`endpoints.console.url`). */
  readonly console: SandboxConsole;
  /** The DynamoDB endpoint with streams: every stream record it emitted (`records`, by stream ARN). */
  readonly tableStream: TableStreamProxy;
  /** The event source mappings: their invocations (`deliveries`) and what reached their failure destinations (`failures`, by ARN). */
  readonly mappings: EventSourceMappings;
  /** Dummy credentials every client may use. */
  readonly credentials: { accessKeyId: string; secretAccessKey: string };
  /** Resolves when no async sender run, workflow or stream batch is in flight. */
  settle(): Promise<void>;
  /** Process ids of every child process, for leak checks. */
  pids(): number[];
  stop(): Promise<void>;
}

export const DEFAULT_CREDENTIALS: ProviderCredentials = {
  sendgrid: { apiKey: 'SG.sandbox-api-key' },
  twilio: { accountSid: 'AC00000000000000000000000000000000', authToken: 'sandbox-auth-token', fromNumber: '+15005550006' },
};

const AWS_CREDENTIALS = { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' };

/** Children of all sandboxes in this process; killed on exit whatever happens. */
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of liveChildren) c.kill('SIGKILL');
    });
  }
}

async function startSes(port: number): Promise<{ child: ChildProcess; url: string }> {
  const cli = path.join(path.dirname(require.resolve('aws-ses-v2-local/package.json')), 'dist', 'cli.js');
  const child = spawn(process.execPath, [cli, '--host', LOOPBACK, '--port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '' } });
  track(child);
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`aws-ses-v2-local did not start: ${out}`)), 15_000);
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      out += chunk;
      const m = /server running at (http:\/\/[^\s]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!.replace(/\/$/, '').replace('localhost', LOOPBACK));
      }
    });
    child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`aws-ses-v2-local exited (${code}): ${out}`));
    });
  });
  return { child, url };
}

async function startDynalite(port: number): Promise<Listening> {
  const dynalite = require('dynalite') as (o: object) => import('node:http').Server;
  return listen(dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 }), port);
}

/** Starts the console on the sandbox's Cognito and DynamoDB endpoints, its stores and its workflows. */
async function startConsole(parts: {
  stack: SandboxStack;
  options: SandboxOptions;
  proxy: CognitoProxy;
  tableStream: TableStreamProxy;
  workflows: LocalStepFunctions;
  providers: Providers;
  sns: readonly StoredMessage[];
  clientId: string;
}): Promise<{ server: SandboxConsole; stop(): Promise<void> }> {
  const { stack, options, proxy, tableStream, workflows, providers, sns } = parts;
  const cognito = new CognitoIdentityProviderClient({ region: stack.region, endpoint: proxy.url, credentials: AWS_CREDENTIALS, maxAttempts: 1 });
  const db = DynamoDBDocumentClient.from(new DynamoDBClient({ region: stack.region, endpoint: tableStream.url, credentials: AWS_CREDENTIALS, maxAttempts: 1 }));
  const lockout = readLockout(stack.functions.find((f) => f.name === 'pre-authentication')?.environment ?? {});
  const waits = reminderWaits(stack.stateMachine?.definition);
  const scale = options.waitScale ?? 1;
  const snapshots = new ConsoleSnapshots({
    info: {
      stackName: stack.stackName,
      region: stack.region,
      deliveryMode: stack.deliveryMode,
      cognito: { endpoint: proxy.url, userPoolId: stack.pool.id, clientId: parts.clientId, legacyUserPoolId: stack.legacyPool?.id ?? '' },
      lockout: { maxAttempts: lockout.maxAttempts, windowSeconds: lockout.windowSeconds, lockSeconds: lockout.lockSeconds },
      ...((options.waits ?? 'asl') === 'asl' && waits ? { waits: { reminderSeconds: waits.reminderSeconds * scale, deletionSeconds: waits.deletionSeconds * scale } } : {}),
    },
    messages: async () => [...providers.sendgrid, ...providers.twilio, ...(await providers.ses()), ...sns.map((m) => ({ ...m, via: 'Cognito SMS' as const }))],
    cognito,
    pools: { user: stack.pool.id, ...(stack.legacyPool ? { legacy: stack.legacyPool.id } : {}) },
    db,
    tableName: stack.table.name,
    lockout,
    executions: () => workflows.executions,
    ...(stack.stateMachine ? { definition: stack.stateMachine.definition } : {}),
  });
  const server = new SandboxConsole(snapshots, {
    skipWait: async (executionArn) => (await workflows.fastForward((e) => e.executionArn === executionArn)) > 0,
    clearLock: async (login) => (await clearLockout(db, stack.table.name, login)) !== undefined,
  });
  await server.start(options.ports?.console ?? 0);
  return {
    server,
    stop: async () => {
      await server.stop();
      cognito.destroy();
      db.destroy();
    },
  };
}

/** Starts the sandbox. On any failure, everything already started is stopped before the error is thrown. */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const ports: SandboxPorts = { cognito: 0, dynamodb: 0, ses: 0, lambda: 0, kms: 0, secretsManager: 0, stepFunctions: 0, providers: 0, console: 0, ...options.ports };
  const stoppers: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stoppers.splice(0).reverse()) await stop().catch(() => undefined);
  };
  try {
    const stack = await loadStack(options);
    const credentials = options.credentials ?? DEFAULT_CREDENTIALS;

    // dynalite listens privately; the public DynamoDB endpoint is the stream proxy in front of it.
    const [dynamo, ses] = await Promise.all([startDynalite(0), startSes(ports.ses)]);
    stoppers.push(() => dynamo.close());
    stoppers.push(async () => {
      if (ses.child.exitCode === null && ses.child.signalCode === null) {
        const exited = new Promise((r) => ses.child.once('exit', r));
        ses.child.kill('SIGKILL');
        await exited;
      }
    });

    const ddb = new DynamoDBClient({ region: stack.region, endpoint: dynamo.url, credentials: AWS_CREDENTIALS });
    await createProjectTable(ddb, stack.table.name);
    await ddb.send(new UpdateTimeToLiveCommand({ TableName: stack.table.name, TimeToLiveSpecification: { AttributeName: stack.table.ttlAttribute, Enabled: true } })).catch(() => undefined);
    ddb.destroy();
    const tableStream = new TableStreamProxy({
      upstream: dynamo.url,
      region: stack.region,
      credentials: AWS_CREDENTIALS,
      tables: stack.table.stream ? [{ tableName: stack.table.name, streamArn: stack.table.stream.arn, viewType: stack.table.stream.viewType }] : [],
    });
    await tableStream.start(ports.dynamodb);
    stoppers.push(() => tableStream.stop());

    const kms = new LocalKms(stack.kmsKey ? [stack.kmsKey] : [], stack.region, stack.accountId);
    await kms.start(ports.kms);
    stoppers.push(() => kms.stop());

    const secrets = new LocalSecretsManager(
      stack.secrets.map((s) => ({ ...s, ...(s.provider === 'sendgrid' ? { value: JSON.stringify(credentials.sendgrid) } : s.provider === 'twilio' ? { value: JSON.stringify(credentials.twilio) } : {}) })),
    );
    await secrets.start(ports.secretsManager);
    stoppers.push(() => secrets.stop());

    const providers = new Providers(credentials, ses.url);
    await providers.start(ports.providers);
    stoppers.push(() => providers.stop());

    // The proxy listens first: its URL is the issuer of the tokens cognito-local signs.
    const backends: CognitoBackend[] = [];
    const proxy = new CognitoProxy(backends);
    await proxy.start(ports.cognito);
    stoppers.push(() => proxy.stop());

    const lambdaHostHolder: { url?: string } = {};
    const workflows = new LocalStepFunctions({
      stateMachines: stack.stateMachine ? [stack.stateMachine] : [],
      invoke: (arn, input) => invokeLambda(lambdaHostHolder.url!, arn, input),
      waits: options.waits ?? 'asl',
      ...(options.waitScale !== undefined ? { waitScale: options.waitScale } : {}),
    });
    await workflows.start(ports.stepFunctions);
    stoppers.push(() => workflows.stop());

    const commonEnvironment = {
      AWS_ACCESS_KEY_ID: AWS_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: AWS_CREDENTIALS.secretAccessKey,
      AWS_SESSION_TOKEN: 'sandbox',
      AWS_ENDPOINT_URL_DYNAMODB: tableStream.url,
      AWS_ENDPOINT_URL_SESV2: ses.url,
      AWS_ENDPOINT_URL_SFN: workflows.url,
      AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER: proxy.url,
      AWS_ENDPOINT_URL_KMS: kms.url,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    // The provider base URLs are configuration the operator sets; the sandbox sets them to its stand-ins.
    const functions = stack.functions.map((f) => ({
      ...f,
      environment: {
        ...f.environment,
        ...(ENV.sendgridApiBaseUrl in f.environment ? { [ENV.sendgridApiBaseUrl]: providers.url } : {}),
        ...(ENV.twilioApiBaseUrl in f.environment ? { [ENV.twilioApiBaseUrl]: providers.url } : {}),
      },
    }));
    const lambda = new LambdaHost({
      functions,
      distDir: options.distDir ?? path.join(ROOT, 'dist'),
      region: stack.region,
      accountId: stack.accountId,
      commonEnvironment,
      ...(options.environmentOverride ? { environmentOverride: options.environmentOverride } : {}),
      ...(options.onLog ? { onLog: options.onLog } : {}),
      onSpawn: track,
      ...(options.maxEnvironmentsPerFunction ? { maxEnvironmentsPerFunction: options.maxEnvironmentsPerFunction } : {}),
      ...(options.asyncRetryDelaysMs ? { asyncRetryDelaysMs: options.asyncRetryDelaysMs } : {}),
      ...(ports.lambda ? { port: ports.lambda } : {}),
    });
    await lambda.start();
    lambdaHostHolder.url = lambda.url;
    stoppers.push(() => lambda.stop());

    const mappings = new EventSourceMappings({
      mappings: stack.streamMappings,
      invoke: (functionName, event) => lambda.invoke(functionName, event),
      functionArn: (functionName) => stack.functions.find((f) => f.functionName === functionName)?.arn ?? functionName,
      ...(options.streamRetryDelayMs !== undefined ? { retryDelayMs: options.streamRetryDelayMs } : {}),
      ...(options.batchingWindowScale !== undefined ? { batchingWindowScale: options.batchingWindowScale } : {}),
    });
    tableStream.onRecords = (streamArn, records) => mappings.deliver(streamArn, records);
    stoppers.push(() => mappings.stop());

    const sns: StoredMessage[] = [];
    for (const pool of [stack.pool, ...(stack.legacyPool ? [stack.legacyPool] : [])]) {
      const backend = new CognitoBackend({
        pool,
        region: stack.region,
        accountId: stack.accountId,
        lambdaUrl: lambda.url,
        kmsUrl: kms.url,
        sesUrl: ses.url,
        issuerBase: proxy.url,
        credentials: AWS_CREDENTIALS,
        onCognitoSms: (to, text) => sns.push({ provider: 'ses', to, recipients: [to], from: 'cognito', text, at: new Date().toISOString(), id: String(sns.length + 1) }),
      });
      await backend.start();
      backends.push(backend);
      stoppers.push(() => backend.stop());
    }
    const clientId = stack.pool.clients[0]?.id ?? '';
    const { server: sandboxConsole, stop: stopConsole } = await startConsole({ stack, options, proxy, tableStream, workflows, providers, sns, clientId });
    stoppers.push(stopConsole);
    if (options.prewarm !== false) await lambda.prewarm();

    const endpoints: SandboxEndpoints = {
      region: stack.region,
      cognito: {
        endpoint: proxy.url,
        userPoolId: stack.pool.id,
        clientId,
        legacyUserPoolId: stack.legacyPool?.id ?? '',
        legacyClientId: stack.legacyPool?.clients[0]?.id ?? '',
      },
      dynamodb: { endpoint: tableStream.url, tableName: stack.table.name },
      lambda: { endpoint: lambda.url },
      stores: { sendgrid: `${providers.url}/stores/sendgrid`, twilio: `${providers.url}/stores/twilio`, ses: `${providers.url}/stores/ses` },
      console: { url: sandboxConsole.url },
    };
    const read = async (store: 'sendgrid' | 'twilio' | 'ses' | 'sns') =>
      store === 'ses' ? providers.ses() : store === 'sns' ? sns : store === 'sendgrid' ? providers.sendgrid : providers.twilio;
    const stores: SandboxStores = {
      sendgrid: () => [...providers.sendgrid],
      twilio: () => [...providers.twilio],
      ses: () => providers.ses(),
      sns: () => [...sns],
      waitFor: (store, match, timeoutMs = 10_000) => waitFor(`a ${store} message`, async () => (await read(store)).find(match), timeoutMs),
    };
    let stopped = false;
    return {
      stack,
      endpoints,
      stores,
      urls: { cognito: proxy.url, dynamodb: tableStream.url, ses: ses.url, lambda: lambda.url, kms: kms.url, secretsManager: secrets.url, stepFunctions: workflows.url, providers: providers.url, console: sandboxConsole.url },
      lambda,
      workflows,
      kms,
      secrets,
      providers,
      cognito: proxy,
      console: sandboxConsole,
      tableStream,
      mappings,
      credentials: AWS_CREDENTIALS,
      // Work leads to work (a workflow task writes, the write is a stream record, its batch invokes a function), so twice round.
      settle: async () => {
        for (let round = 0; round < 2; round++) {
          await lambda.settle();
          await workflows.settle();
          await mappings.settle();
          await lambda.settle();
        }
      },
      pids: () => [...lambda.pids(), ...(ses.child.pid && ses.child.exitCode === null && ses.child.signalCode === null ? [ses.child.pid] : [])],
      stop: async () => {
        if (stopped) return;
        stopped = true;
        await stopAll();
      },
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
