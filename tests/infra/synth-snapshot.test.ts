/**
 * Pins the synthesized Terraform of every environment in both delivery modes to a committed snapshot,
 * so a refactoring that changes what `terraform plan` would do fails here rather than in review.
 *
 * The Lambda bundles' hashes (`source_code_hash`, and the asset folder named after it) change with
 * every edit of a function's code, which is what they are for; they are replaced by placeholders.
 * Everything else must match byte for byte.
 *
 * After an intended change of the infrastructure, rewrite the snapshots and review their diff:
 *   UPDATE_TF_SNAPSHOTS=1 npx mocha --no-config --node-option import=tsx --extension ts tests/infra/synth-snapshot.test.ts
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { loadConfig } from '../../infra/config.ts';
import { THREAT_PROTECTION } from '../../scripts/lib/variants.ts';
import { synthesize } from './helpers.ts';

const SNAPSHOT_DIR = path.join(import.meta.dirname, 'snapshots');
const ENVIRONMENTS = ['dev', 'prod', 'sandbox'] as const;
const MODES = ['custom-senders', 'cognito'] as const;
/** Every optional feature on at once (passwordless sign-in, threat protection), so their resources are pinned too. */
const ALL_FEATURES = { passwordless: { enabled: true }, email: { appUrl: 'https://app.example.com' }, ...THREAT_PROTECTION };
const update = process.env.UPDATE_TF_SNAPSHOTS === '1';

/** The synthesized JSON with the bundle hashes replaced, as stable text. */
export function normalizedTerraform(text: string): string {
  const json = JSON.parse(text) as { resource?: Record<string, Record<string, Record<string, unknown>>> };
  for (const fn of Object.values(json.resource?.aws_lambda_function ?? {})) {
    if (typeof fn.source_code_hash === 'string') fn.source_code_hash = '<sha256 of the bundle>';
    if (typeof fn.filename === 'string') fn.filename = fn.filename.replace(/\/[0-9A-F]{32}\//, '/<bundle hash>/');
  }
  return `${JSON.stringify(json, null, 2)}\n`;
}

describe('synthesized Terraform snapshot', () => {
  for (const environment of ENVIRONMENTS) {
    for (const deliveryMode of MODES) {
      for (const features of ['defaults', 'all-features'] as const) {
        const suffix = features === 'defaults' ? '' : `-${features}`;
        it(`is unchanged for ${environment} in ${deliveryMode} mode with ${features === 'defaults' ? 'its defaults' : 'every optional feature on'}`, () => {
          const overrides = features === 'defaults' ? { deliveryMode } : { deliveryMode, ...ALL_FEATURES };
          const config = loadConfig({ env: { ENV: environment }, overrides });
          const actual = normalizedTerraform(synthesize(config).text);
          const file = path.join(SNAPSHOT_DIR, `${environment}-${deliveryMode}${suffix}.tf.json`);
          if (update) {
            mkdirSync(SNAPSHOT_DIR, { recursive: true });
            writeFileSync(file, actual);
          }
          expect(existsSync(file), `${path.relative(process.cwd(), file)} is missing; UPDATE_TF_SNAPSHOTS=1 writes it`).to.equal(true);
          // Compared as text, not deep-equal, so key order and formatting are pinned too.
          const expected = readFileSync(file, 'utf8');
          if (actual !== expected) {
            expect.fail(`the synthesized Terraform of ${environment}/${deliveryMode} differs from ${path.relative(process.cwd(), file)}; ` +
              'if the change is intended, rerun with UPDATE_TF_SNAPSHOTS=1 and review the snapshot diff');
          }
        });
      }
    }
  }
});
