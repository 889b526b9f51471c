/**
 * Keeps the fingerprint-keying measurement (bench/fingerprint-key.ts, quoted in docs/functions.md) from
 * rotting: one round must build both variants, run each against the local KMS and DynamoDB stand-in
 * (a failed GenerateMac fails the run) and report every figure. Timings are not asserted here.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { expect } from 'chai';

const root = path.resolve(import.meta.dirname, '../..');

interface Figures {
  bytes: number;
  loadCpuAboveNodeMs: number;
  firstInvocationMs: number;
  firstInvocationCpuMs: number;
}

function runOnce(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/fingerprint-key.ts', '--rounds', '1'], {
      cwd: root,
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('fingerprint keying measurement (bench/fingerprint-key.ts, one round)', function () {
  this.timeout(120_000);

  it('builds, runs and reports both variants, the keyed one carrying the KMS client', async () => {
    const run = await runOnce();
    expect(run.code, run.stderr).to.equal(0);
    const result = JSON.parse(run.stdout) as { rounds: number; plain: Figures; keyed: Figures; keyedOverPlain: Record<string, number>; coldPathCpuAddedMs: number };
    expect(result.rounds).to.equal(1);
    for (const id of ['plain', 'keyed'] as const) {
      for (const [figure, value] of Object.entries(result[id])) expect(value, `${id}.${figure}`).to.be.a('number').and.satisfy(Number.isFinite);
    }
    expect(result.keyed.bytes, 'the KMS client is bundled').to.be.greaterThan(result.plain.bytes + 10_000);
    expect(Object.keys(result.keyedOverPlain)).to.have.members(['bytes', 'loadCpuAboveNode', 'firstInvocation', 'firstInvocationCpu']);
    expect(result.coldPathCpuAddedMs).to.be.a('number');
  });
});
