/**
 * Prints where synth and build put their output, for the README's first command.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { loadConfig, stackName } from '../infra/config.ts';

const root = path.resolve(import.meta.dirname, '..');
const config = loadConfig();
const stack = stackName(config);
const tfJson = path.join('cdktf.out', 'stacks', stack, 'cdk.tf.json');
const dist = path.join(root, 'dist');
const zips = existsSync(dist) ? readdirSync(dist).filter((f) => f.endsWith('.zip')).sort() : [];

const kb = (file: string): string => `${(statSync(file).size / 1024).toFixed(1)} KiB`;
console.log(`Stack ${stack} (environment ${config.environment}, delivery mode ${config.deliveryMode}, region ${config.region})`);
console.log(`  Terraform JSON: ${existsSync(path.join(root, tfJson)) ? tfJson : `${tfJson} (missing: run make synth)`}`);
console.log(`  Lambda zips (${zips.length}) in dist/:`);
for (const zip of zips) console.log(`    dist/${zip}  ${kb(path.join(dist, zip))}`);
console.log('  The JSON works with plain Terraform too: cd into its folder and run terraform init / plan.');
