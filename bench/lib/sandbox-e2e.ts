/**
 * Sandbox end-to-end latency: sign-up, confirm and sign-in through the local sandbox with every
 * trigger configured, against the same calls with no triggers, as a ratio. Until the sandbox library
 * (sandbox/index.ts, `startSandbox`) exists this reports "pending" with the reason.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './builds.ts';

export interface SandboxResult {
  readonly status: 'measured' | 'pending' | 'error';
  readonly reason?: string;
  /** Per operation: median milliseconds with triggers, without, and their ratio. */
  readonly operations?: Record<string, { withTriggersMs: number; withoutTriggersMs: number; ratio: number }>;
  readonly users?: number;
}

const LIBRARY = path.join(repoRoot, 'sandbox', 'index.ts');

/** Measures `users` sign-up journeys in each configuration, or says why it cannot yet. */
export async function measureSandbox(users: number): Promise<SandboxResult> {
  if (!existsSync(LIBRARY)) return { status: 'pending', reason: 'sandbox/index.ts (startSandbox) does not exist yet' };
  const library = (await import(LIBRARY)) as Record<string, unknown>;
  if (typeof library.startSandbox !== 'function') return { status: 'pending', reason: 'sandbox/index.ts does not export startSandbox yet' };
  return { status: 'pending', reason: `startSandbox exists; the benchmark's journey for ${users} users is not wired to its API yet` };
}
