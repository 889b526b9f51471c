/**
 * The Lambda runtime inside one sandbox execution environment (a child process).
 *
 * Like Lambda's Node.js runtime it loads the bundle once (the cold start), then runs one invocation
 * at a time with a context object, and reports the handler's result or error. It talks to the host
 * over the IPC channel. The host compiles this file with esbuild and runs it with `node -e`, so the
 * child starts with nothing but its own environment.
 */
interface InvokeMessage {
  readonly type: 'invoke';
  readonly id: number;
  readonly event: unknown;
  readonly requestId: string;
  readonly deadline: number;
}

interface LambdaError {
  errorType: string;
  errorMessage: string;
  trace: string[];
}

function toLambdaError(error: unknown): LambdaError {
  if (error instanceof Error) {
    return { errorType: error.name || 'Error', errorMessage: error.message, trace: (error.stack ?? '').split('\n') };
  }
  return { errorType: 'Error', errorMessage: String(error), trace: [] };
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const Module = require('node:module') as typeof import('node:module') & { new (id: string, parent: null): NodeJS.Module & { _compile(code: string, file: string): void; paths: string[] } };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { readFileSync } = require('node:fs') as typeof import('node:fs');
const bundle = (process.env.LAMBDA_TASK_ROOT ?? '.') + '/index.js';
const exportName = (process.env._HANDLER ?? 'index.handler').split('.').pop() ?? 'handler';
let handler: ((event: unknown, context: unknown, callback?: unknown) => unknown) | undefined;
let initError: LambdaError | undefined;
try {
  // A deployed zip holds index.js and no package.json, so Lambda loads it as CommonJS with no
  // node_modules to fall back on. Compile it the same way, whatever the repository's package.json says.
  const loaded = new Module(bundle, null);
  loaded.filename = bundle;
  loaded.paths = [];
  loaded._compile(readFileSync(bundle, 'utf8'), bundle);
  const mod = loaded.exports as Record<string, unknown>;
  const fn = mod[exportName];
  if (typeof fn !== 'function') throw Object.assign(new Error(`${exportName} is undefined or not exported`), { name: 'Runtime.HandlerNotFound' });
  handler = fn as typeof handler;
} catch (error) {
  initError = toLambdaError(error);
}

let current: number | undefined;
const send = (message: unknown) => process.send?.(message);

function fail(error: unknown) {
  // An error escaping the handler's promise chain kills the environment, as in Lambda.
  if (current !== undefined) send({ type: 'result', id: current, error: toLambdaError(error) });
  process.exit(1);
}
process.on('uncaughtException', fail);
process.on('unhandledRejection', fail);

process.on('message', (raw: unknown) => {
  const message = raw as InvokeMessage;
  if (message.type !== 'invoke') return;
  current = message.id;
  if (initError || !handler) {
    send({ type: 'result', id: message.id, error: initError, initFailed: true });
    return;
  }
  const context = {
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: process.env.SANDBOX_FUNCTION_ARN,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: message.requestId,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, message.deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
  const run = handler;
  new Promise((resolve, reject) => {
    const callback = (error: unknown, result: unknown) => (error ? reject(error) : resolve(result));
    Promise.resolve(run(message.event, context, callback)).then((value) => {
      if (value !== undefined || run.length < 3) resolve(value);
    }, reject);
  }).then(
    (result) => {
      current = undefined;
      send({ type: 'result', id: message.id, result: result === undefined ? null : result });
    },
    (error: unknown) => {
      current = undefined;
      send({ type: 'result', id: message.id, error: toLambdaError(error) });
    },
  );
});

send({ type: 'ready' });
