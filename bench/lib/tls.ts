/**
 * The cold path over TLS. Every AWS endpoint a function calls on Lambda is HTTPS, while the main
 * rounds use a plain-HTTP stub so that they time our code and not OpenSSL. This phase runs the
 * synchronous triggers (ours and naive) and the floor probe again, in rounds of their own, against the
 * same stub served over HTTPS with a certificate chain the functions verify: a throwaway root CA,
 * trusted through `NODE_EXTRA_CA_CERTS`, signs an intermediate, which signs the stub's certificate
 * for 127.0.0.1, all RSA 2048 as AWS endpoints present them. What it adds to each cold path is the
 * handshake, the chain's verification and the TLS record layer, once per connection a function opens.
 *
 * Informational: it has no budget. The certificates come from the `openssl` command (Debian's
 * `openssl` package, which `ca-certificates` depends on), made afresh in a temporary directory.
 */
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FUNCTIONS, type FunctionName } from '../../functions/catalog.ts';
import { timeBareNode, timeColdPath, type ColdPathSample, type ProcessSample } from './cold.ts';
import { functionEnv } from './env.ts';
import { FLOOR_PROBE } from './floor.ts';
import { coldPathFigures, pathTotals, type ColdPathFigures, type FunctionResult, type PathTotal } from './results.ts';
import type { ColdPathName } from './paths.ts';
import { median, round, shuffled } from './stats.ts';
import { startStubServer } from './stub-server.ts';

/** The stub's key and chain (PEM), and the file holding the root the functions trust. */
export interface LoopbackCertificate {
  readonly key: string;
  /** The stub's certificate followed by the intermediate, as a server sends its chain. */
  readonly chain: string;
  readonly rootFile: string;
}

/** Makes a root CA, an intermediate and a certificate for 127.0.0.1 under `dir` with `openssl`. */
export async function loopbackCertificate(dir: string): Promise<LoopbackCertificate> {
  const at = (file: string) => path.join(dir, file);
  const openssl = (...args: string[]) => {
    try {
      execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (error) {
      const detail = (error as { code?: string; stderr?: Buffer }).code === 'ENOENT' ? 'the openssl command is not installed (apt-get install openssl)' : String((error as { stderr?: Buffer }).stderr ?? error).trim().slice(0, 300);
      throw new Error(`could not make the bench's loopback TLS certificate: ${detail}`);
    }
  };
  const key = (name: string) => openssl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', at(`${name}.key`));
  await writeFile(at('ca.ext'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n');
  await writeFile(at('leaf.ext'), 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n');
  key('root');
  openssl('req', '-x509', '-key', at('root.key'), '-out', at('root.pem'), '-days', '2', '-subj', '/CN=bench loopback root', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  for (const [name, issuer, subject, ext] of [
    ['intermediate', 'root', '/CN=bench loopback intermediate', 'ca.ext'],
    ['leaf', 'intermediate', '/CN=127.0.0.1', 'leaf.ext'],
  ] as const) {
    key(name);
    openssl('req', '-new', '-key', at(`${name}.key`), '-out', at(`${name}.csr`), '-subj', subject);
    openssl('x509', '-req', '-in', at(`${name}.csr`), '-CA', at(`${issuer}.pem`), '-CAkey', at(`${issuer}.key`), '-CAcreateserial', '-out', at(`${name}.pem`), '-days', '2', '-extfile', at(ext));
  }
  const [leafKey, leaf, intermediate] = await Promise.all(['leaf.key', 'leaf.pem', 'intermediate.pem'].map((f) => readFile(at(f), 'utf8')));
  return { key: leafKey!, chain: `${leaf!}${intermediate!}`, rootFile: at('root.pem') };
}

/** One function over TLS: its cold paths, ours and naive, and what TLS added to each against the main rounds. */
export interface TlsColdPath {
  readonly ours: ColdPathFigures;
  readonly naive: ColdPathFigures;
  /** ours / naive, CPU. */
  readonly ratioCpu: number;
  /** CPU ms above the same variant's plain-HTTP cold path of the main rounds. */
  readonly addedCpuMs: { readonly ours: number; readonly naive: number };
}

/** What bench/results.json records under `tls`. */
export interface TlsResult {
  readonly rounds: number;
  /** Bare node with the same environment (the root file named in NODE_EXTRA_CA_CERTS), CPU median. */
  readonly baselineCpuMs: number;
  readonly functions: Partial<Record<FunctionName, TlsColdPath>>;
  readonly floor?: ColdPathFigures;
  readonly paths: Partial<Record<ColdPathName, PathTotal>>;
  /** Connections the stub accepted over TLS, by function and variant, in the last round. */
  readonly connections: Record<string, number>;
}

/** The functions this phase measures: the synchronous triggers, which a user waits for. */
export const TLS_FUNCTIONS: readonly FunctionName[] = FUNCTIONS.filter((f) => f.kind === 'sync-trigger').map((f) => f.name);

/**
 * Runs the phase: `rounds` shuffled rounds (plus a discarded warm-up round unless `rounds` is 1), each
 * process preceded by a bare node with the same environment, like the main rounds.
 */
export async function measureColdOverTls(options: {
  readonly stage: { readonly ours: string; readonly naive: string };
  readonly results: readonly FunctionResult[];
  readonly events: ReadonlyMap<FunctionName, string>;
  readonly floorBundle: string;
  /** The floor probe's event file. */
  readonly floorEvent: string;
  readonly dir: string;
  readonly rounds: number;
  readonly log: (message: string) => void;
}): Promise<TlsResult> {
  const certificate = await loopbackCertificate(options.dir);
  const stub = await startStubServer({ tls: { key: certificate.key, cert: certificate.chain } });
  const trust = { NODE_EXTRA_CA_CERTS: certificate.rootFile };
  const env = (name: FunctionName) => ({ ...functionEnv(name, stub.url), ...trust });
  const measured = options.results.filter((r) => TLS_FUNCTIONS.includes(r.name) && options.events.has(r.name));
  type Task = { name: FunctionName; variant: 'ours' | 'naive' } | { floor: true };
  const tasks: Task[] = [...measured.flatMap((r) => (['ours', 'naive'] as const).map((variant) => ({ name: r.name, variant }))), { floor: true }];
  const samples = new Map<string, ColdPathSample[]>();
  const baseline: ProcessSample[] = [];
  const connections: Record<string, number> = {};
  const total = options.rounds > 1 ? options.rounds + 1 : 1;
  try {
    for (let round = 0; round < total; round++) {
      const record = total === 1 || round > 0;
      for (const task of shuffled(tasks, 0x7150 + round)) {
        const key = 'floor' in task ? FLOOR_PROBE : `${task.name}/${task.variant}`;
        const bare = await timeBareNode({ ...functionEnv('pre-token-generation'), ...trust });
        const before = stub.tlsConnections();
        const sample =
          'floor' in task
            ? await timeColdPath(options.floorBundle, options.floorEvent, FLOOR_PROBE, env('pre-authentication'))
            : await timeColdPath(path.join(options.stage[task.variant], task.name, 'index.js'), options.events.get(task.name)!, task.name, env(task.name));
        connections[key] = stub.tlsConnections() - before;
        if (!record) continue;
        baseline.push(bare);
        samples.set(key, [...(samples.get(key) ?? []), sample]);
      }
      options.log(`tls round ${round + 1}/${total}${record ? '' : ' (warm-up, discarded)'}`);
    }
  } finally {
    await stub.close();
  }
  const base = { wall: median(baseline.map((b) => b.wallMs)), cpu: median(baseline.map((b) => b.cpuMs)) };
  const functions: Partial<Record<FunctionName, TlsColdPath>> = {};
  const overTls: FunctionResult[] = [];
  for (const r of measured) {
    const ours = coldPathFigures(samples.get(`${r.name}/ours`)!, base);
    const naive = coldPathFigures(samples.get(`${r.name}/naive`)!, base);
    const added = (variant: 'ours' | 'naive', figures: ColdPathFigures) => round(figures.cpuAboveNodeMs - (r[variant].coldPath?.cpuAboveNodeMs ?? Number.NaN), 1);
    functions[r.name] = { ours, naive, ratioCpu: round(ours.cpuAboveNodeMs / naive.cpuAboveNodeMs, 3), addedCpuMs: { ours: added('ours', ours), naive: added('naive', naive) } };
    overTls.push({ ...r, ours: { ...r.ours, coldPath: ours }, naive: { ...r.naive, coldPath: naive } });
  }
  const floorSamples = samples.get(FLOOR_PROBE);
  const floor = floorSamples ? coldPathFigures(floorSamples, base) : undefined;
  return {
    rounds: options.rounds,
    baselineCpuMs: round(base.cpu),
    functions,
    ...(floor ? { floor } : {}),
    paths: pathTotals(overTls, floor, baseline.map((b) => b.cpuMs)),
    connections,
  };
}
