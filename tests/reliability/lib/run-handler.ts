/**
 * Child-process entry: loads one function's handler with the environment it was given (as Lambda
 * would, config read at module scope), invokes it with each event in turn, and prints one result line.
 * Running in a child keeps module-scope configuration and clients separate per scenario.
 */
import { lambdaContext } from './events.ts';

const [modulePath] = process.argv.slice(2);
// Events arrive on stdin: they can be megabytes, past what a command line holds.
let eventsJson = '';
for await (const chunk of process.stdin) eventsJson += String(chunk);

interface Outcome {
  ms: number;
  ok: boolean;
  result?: unknown;
  error?: { name: string; message: string };
}

const outcomes: Outcome[] = [];
let loadError: { name: string; message: string } | undefined;
try {
  const mod = (await import(modulePath!)) as { handler?: (event: unknown, context: unknown) => Promise<unknown> };
  const handler = mod.handler ?? (mod as { default?: { handler: (e: unknown, c: unknown) => Promise<unknown> } }).default?.handler;
  if (!handler) throw new Error(`${modulePath} exports no handler`);
  const events = JSON.parse(eventsJson) as unknown[];
  for (const [i, event] of events.entries()) {
    // As the Lambda runtime passes it: the clock runs down from the function's timeout.
    const context = lambdaContext(
      process.env.AWS_LAMBDA_FUNCTION_NAME ?? '',
      Number(process.env.RELIABILITY_FUNCTION_TIMEOUT_MS ?? 5_000),
      `reliability-${process.pid}-${i}`,
    );
    const t0 = performance.now();
    try {
      const result = await handler(event, context);
      outcomes.push({ ms: performance.now() - t0, ok: true, result: JSON.parse(JSON.stringify(result ?? null, (_k, v: unknown) => (typeof v === 'string' && v.length > 20_000 ? `<${v.length} characters>` : v))) });
    } catch (error) {
      const e = error as Error;
      outcomes.push({ ms: performance.now() - t0, ok: false, error: { name: e?.name, message: typeof e?.message === 'string' ? e.message.slice(0, 2_000) : String(e) } });
    }
  }
} catch (error) {
  const e = error as Error;
  loadError = { name: e?.name, message: e?.message };
}
// Exit once the line is flushed: keep-alive sockets to a black hole would otherwise hold the process open.
process.stdout.write(`\n@@RESULT@@${JSON.stringify({ outcomes, loadError })}\n`, () => process.exit(0));
