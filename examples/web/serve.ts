/**
 * `make example`: serves the example web app on http://127.0.0.1:3000/ (`EXAMPLE_PORT` changes it)
 * against the sandbox that `make sandbox` runs, reading the pool, app client and endpoint from
 * `.sandbox/endpoints.json` on every page load. Ctrl-C stops it.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { SandboxEndpoints } from '../../sandbox/index.ts';
import { EXAMPLE_PORT, exampleConfig, startExampleApp } from './server.ts';

const endpointsFile = path.resolve(import.meta.dirname, '..', '..', '.sandbox', 'endpoints.json');
const port = Number(process.env.EXAMPLE_PORT ?? EXAMPLE_PORT);
if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new Error(`EXAMPLE_PORT must be a port number, got ${JSON.stringify(process.env.EXAMPLE_PORT)}`);

const app = await startExampleApp({
  port,
  config: () => {
    if (!existsSync(endpointsFile)) throw new Error('No sandbox is running: start it with make sandbox, then reload this page.');
    const endpoints = JSON.parse(readFileSync(endpointsFile, 'utf8')) as SandboxEndpoints;
    return exampleConfig(endpoints);
  },
});
console.log(`The example app is at ${app.url} (Amplify v6, default settings), talking to the sandbox named in .sandbox/endpoints.json.
Codes arrive in the sandbox console. Ctrl-C stops it.`);
const stop = () => void app.stop().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
