/**
 * The sandbox's synth cache: reused while no input changed, and redone when a configuration override
 * (`CT_*`) changed, which is how `make sandbox` is told other workflow waits for one run.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { reminderWaits } from '../../sandbox/console/state.ts';
import { loadStack } from '../../sandbox/stack.ts';

const VARIABLE = 'CT_WORKFLOW_REMINDER_DELAY_SECONDS';

describe('sandbox stack: synth cache', function () {
  this.timeout(240_000);
  const outdir = mkdtempSync(path.join(os.tmpdir(), 'sandbox-synth-'));
  const saved = process.env[VARIABLE];

  after(() => {
    if (saved === undefined) delete process.env[VARIABLE];
    else process.env[VARIABLE] = saved;
    rmSync(outdir, { recursive: true, force: true });
  });

  it('reuses a synth made with the same overrides and synthesizes again when one changed', async () => {
    delete process.env[VARIABLE];
    const first = await loadStack({ outdir });
    expect(reminderWaits(first.stateMachine?.definition)?.reminderSeconds).to.equal(600);
    const synthesizedAt = statSync(first.file!).mtimeMs;

    const again = await loadStack({ outdir });
    expect(statSync(again.file!).mtimeMs, 'reused').to.equal(synthesizedAt);

    process.env[VARIABLE] = '90';
    const changed = await loadStack({ outdir });
    expect(reminderWaits(changed.stateMachine?.definition)?.reminderSeconds).to.equal(90);

    delete process.env[VARIABLE];
    const back = await loadStack({ outdir });
    expect(reminderWaits(back.stateMachine?.definition)?.reminderSeconds).to.equal(600);
  });
});
