import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');

/** Runs a script the way the Makefile does, with a clean environment: no AWS settings, an empty home. */
function runScript(script: string, args: string[], env: Record<string, string>, home: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', HOME: home, NODE_NO_WARNINGS: '1', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('deployment commands as make runs them (no AWS account)', function () {
  this.timeout(60_000);
  let home: string;
  before(() => {
    home = mkdtempSync(path.join(os.tmpdir(), 'deploy-cli-'));
  });
  after(() => rmSync(home, { recursive: true, force: true }));

  it('each stops with exit 1 and one line saying what it needs', async () => {
    const cases: { script: string; args: string[]; env: Record<string, string>; line: string }[] = [
      // Refusals that do not depend on how the developer last synthesized (tests/scripts/deploy.test.ts covers the rest).
      { script: 'scripts/deploy.ts', args: ['destroy'], env: { ENV: 'prod' }, line: 'destroy: ENV=prod sets deletionProtection, so make destroy refuses' },
      { script: 'scripts/deploy.ts', args: ['plan'], env: { ENV: 'qa' }, line: 'plan: cdktf.out/stacks/cognito-triggers-qa/cdk.tf.json is missing: run `make synth ENV=qa` first' },
      { script: 'scripts/bootstrap.ts', args: [], env: { ENV: 'dev' }, line: 'bootstrap: set TF_STATE_BUCKET to a new, globally unique bucket name' },
      { script: 'scripts/bootstrap.ts', args: [], env: { ENV: 'dev', TF_STATE_BUCKET: 'acme-tfstate' }, line: 'bootstrap: no AWS credentials found' },
      { script: 'scripts/plan-summary.ts', args: ['missing.json'], env: {}, line: 'plan-summary: cannot read missing.json' },
    ];
    const results = await Promise.all(cases.map((c) => runScript(c.script, c.args, c.env, home)));
    results.forEach((r, i) => {
      const c = cases[i]!;
      expect(r.code, `${c.script} ${c.args.join(' ')}: ${r.stderr}`).to.equal(1);
      const lines = r.stderr.trim().split('\n');
      expect(lines, r.stderr).to.have.length(1);
      expect(lines[0]).to.contain(c.line);
    });
  });

  it('a bad configuration stops deploy.ts with exit 1, naming the field, the value and where it came from', async () => {
    const r = await runScript('scripts/deploy.ts', ['plan'], { ENV: 'dev', CT_REGION: 'mars' }, home);
    expect(r.code).to.equal(1);
    expect(r.stderr.trim()).to.equal('plan: Invalid configuration:\n  - region = "mars": must be an AWS region such as eu-west-1 (from variable CT_REGION)');
  });

  it('deploy.ts prints its usage and exits 2 for an unknown command', async () => {
    const r = await runScript('scripts/deploy.ts', ['apply'], {}, home);
    expect(r.code).to.equal(2);
    expect(r.stderr.trim()).to.equal('usage: node --import tsx scripts/deploy.ts plan|deploy|destroy|outputs');
  });
});
