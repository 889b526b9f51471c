'use strict';
/**
 * The process a cold start is timed in, run on the Lambda runtime's Node.js as plain CommonJS (no
 * loader hooks, nothing the function would not pay for itself). bench/lib/cold.ts starts it with
 * ./lambda-runtime.cjs preloaded, as Lambda's runtime is when it loads a handler, except for the
 * machine calibration:
 *
 *   node cold-child.cjs                                   bare: reports the CPU time of a node that does nothing
 *   node cold-child.cjs <bundle>                          load: requires the bundle, checks it exports a handler
 *   node cold-child.cjs <bundle> <event.json> <function>  cold path: the load, then the first invocation
 *
 * What it measured goes to file descriptor 3 as one JSON object, so the function's own log lines
 * (stdout) can go to /dev/null as in the warm benchmark. The event is read after the load and before
 * the invocation, between two CPU readings, so neither figure includes it.
 */
const fs = require('node:fs');

/** User + system CPU time of this process so far, milliseconds. */
function cpuMs() {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e3;
}

/**
 * A Lambda context as the Node.js runtime passes it, for a function invoked with `memoryMb`. The
 * warm worker (warm-worker.ts) builds its contexts here too.
 */
function lambdaContext(functionName, memoryMb = 256) {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: String(memoryMb),
    awsRequestId: require('node:crypto').randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'bench',
    getRemainingTimeInMillis: () => 5_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

function report(fields) {
  fs.writeSync(3, JSON.stringify(fields));
}

const sinceMs = (start) => Number(process.hrtime.bigint() - start) / 1e6;
/** Monotonic microseconds, the clock of a --cpu-prof profile's timestamps, so bench/profile.ts can split it into phases. */
const micros = (t) => Number(t / 1000n);

function main() {
  const [bundle, eventFile, functionName] = process.argv.slice(2);
  if (!bundle) return report({ cpuMs: cpuMs() });
  const started = process.hrtime.bigint();
  const m = require(bundle);
  const loaded = process.hrtime.bigint();
  const loadMs = Number(loaded - started) / 1e6;
  const loadCpuMs = cpuMs();
  if (typeof m.handler !== 'function') {
    process.stderr.write('no handler export\n');
    process.exit(3);
  }
  if (!eventFile) return report({ loadMs, cpuMs: loadCpuMs });
  const event = JSON.parse(fs.readFileSync(eventFile, 'utf8'));
  const context = lambdaContext(functionName);
  const callCpuStart = cpuMs();
  const callStarted = process.hrtime.bigint();
  Promise.resolve()
    .then(() => m.handler(event, context))
    .then(
      () => undefined,
      (error) => (error instanceof Error ? `${error.name}: ${error.message}`.slice(0, 200) : typeof error),
    )
    .then((error) => {
      const callMs = sinceMs(callStarted);
      const callCpuMs = cpuMs() - callCpuStart;
      // maxRSS is in KiB: the peak resident set of the whole process up to the end of the first call.
      const marks = { started: micros(started), loaded: micros(loaded), callStarted: micros(callStarted), callEnded: micros(process.hrtime.bigint()) };
      report({ loadMs, cpuMs: loadCpuMs, callMs, callCpuMs, peakRssMiB: process.resourceUsage().maxRSS / 1024, marks, ...(error ? { error } : {}) });
      process.exit(0);
    });
}

if (require.main === module) main();

module.exports = { lambdaContext };
