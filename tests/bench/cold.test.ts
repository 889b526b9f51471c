/**
 * The processes the bench times (bench/lib/cold.ts) start as Lambda's Node.js runtime has before it loads
 * a handler (bench/lib/lambda-runtime.cjs), and the machine calibration's start as a plain node.
 */
import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { timeBareNode, timeColdPath, timeLoad } from '../../bench/lib/cold.ts';

/** Throws, failing the child, unless `node:http` was loaded as `loaded` says before this line ran. */
const requireHttp = (loaded: boolean) =>
  `if (process.moduleLoadList.includes('NativeModule http') !== ${loaded}) throw new Error('node:http ${loaded ? 'not ' : ''}loaded before the bundle');`;

describe('cold-start processes (bench/lib/cold.ts)', function () {
  this.timeout(30_000);
  let dir: string;
  let bundle: string;
  let event: string;
  const env = { PATH: process.env.PATH ?? '' };

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'bench-cold-'));
    bundle = path.join(dir, 'index.js');
    event = path.join(dir, 'event.json');
    await writeFile(bundle, 'exports.handler = async () => undefined;\n');
    await writeFile(event, '{}');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('loads a bundle in a node that has already loaded what Lambda\'s runtime loads before a handler', async () => {
    const sample = await timeLoad(bundle, { env, afterLoad: requireHttp(true) });
    expect(sample.cpuMs).to.be.above(0);
  });

  it('loads the calibration workload in a plain node, as its reference figures were measured', async () => {
    const sample = await timeLoad(bundle, { env, plainNode: true, afterLoad: requireHttp(false) });
    expect(sample.cpuMs).to.be.above(0);
  });

  it('starts the bare node every figure is taken above in the same way, and the calibration\'s plain', async () => {
    // The bare child runs no code of ours, so a preload checks, as the process exits, what it had loaded.
    const exitCheck = (loaded: boolean) => {
      const file = path.join(dir, `exit-check-${loaded}.cjs`);
      return writeFile(file, `process.on('exit', () => { if (process.moduleLoadList.includes('NativeModule http') !== ${loaded}) process.exitCode = 9; });\n`).then(() => file);
    };
    const withCheck = async (loaded: boolean) => ({ ...env, NODE_OPTIONS: `--require ${JSON.stringify(await exitCheck(loaded))}` });
    expect((await timeBareNode(await withCheck(true))).cpuMs).to.be.above(0);
    expect((await timeBareNode(await withCheck(false), { plainNode: true })).cpuMs).to.be.above(0);
    await timeBareNode(await withCheck(false)).then(
      () => expect.fail('the bare node started plain'),
      (error: Error) => expect(error.message).to.match(/exited 9/),
    );
  });

  it('runs a cold path in the runtime\'s start too: a bundle that needs a plain node fails there', async () => {
    const probe = path.join(dir, 'probe.js');
    await writeFile(probe, `${requireHttp(true)}\nexports.handler = async () => undefined;\n`);
    const sample = await timeColdPath(probe, event, 'probe', env);
    expect(sample.callCpuMs).to.be.at.least(0);
    const plain = path.join(dir, 'plain.js');
    await writeFile(plain, `${requireHttp(false)}\nexports.handler = async () => undefined;\n`);
    await timeColdPath(plain, event, 'probe', env).then(
      () => expect.fail('a cold path ran in a plain node'),
      (error: Error) => expect(error.message).to.match(/node:http loaded before the bundle/),
    );
  });
});
