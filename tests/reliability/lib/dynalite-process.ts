/**
 * Child-process entry that serves dynalite on a free loopback port and prints the port. Load tests run
 * DynamoDB in its own process, as it is in reality, so the client's event loop does not also serve it.
 */
import { createRequire } from 'node:module';
import type http from 'node:http';
import type net from 'node:net';

const require = createRequire(import.meta.url);
const dynalite = require('dynalite') as (options: { createTableMs: number; deleteTableMs: number; updateTableMs: number }) => http.Server;
const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${(server.address() as net.AddressInfo).port}\n`);
});
// Exit with the parent: a closed stdin means the test run is over.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
process.on('SIGTERM', () => process.exit(0));
