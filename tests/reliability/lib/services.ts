/**
 * The real local services the reliability suite runs against: dynalite (DynamoDB) and aws-ses-v2-local
 * (SES v2), each on a free loopback port, with the table laid out as the runtime contract describes.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import type http from 'node:http';
import type net from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Stoppable } from './net.ts';
import { createProjectTable } from '../../../sandbox/lib/table.ts';
import { readSesStore, type SesStoreEmail } from '../../../sandbox/providers.ts';

const require = createRequire(import.meta.url);
// dynalite ships no types; this is the one call the suite makes.
const dynalite = require('dynalite') as (options: { createTableMs: number; deleteTableMs: number; updateTableMs: number }) => http.Server;
// A CommonJS module whose server is its `default` export: required, so it reads the same under either module loader.
const { default: sesServer } = require('aws-ses-v2-local') as typeof import('aws-ses-v2-local');

/** Region and throwaway credentials for every local client. */
export const LOCAL_AWS = { region: 'us-east-1', credentials: { accessKeyId: 'AKIDLOCALRELIABILITY', secretAccessKey: 'local-only' } } as const;

function urlOf(server: http.Server): string {
  return `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
}

async function close(server: http.Server): Promise<void> {
  server.closeAllConnections?.();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** A dynalite server holding one table with the contract's keys. */
export interface LocalDynamo extends Stoppable {
  readonly endpoint: string;
  readonly tableName: string;
  /** A document client straight to dynalite (no fault proxy), for setup and for reading the truth. */
  readonly doc: DynamoDBDocumentClient;
  /** Every item whose pk starts with `prefix`. */
  items(prefix?: string): Promise<Array<Record<string, unknown>>>;
}

/**
 * Starts dynalite in memory and creates the table. `inProcess: false` serves it from a child process,
 * which load tests use so that the clients' event loop does not also have to serve DynamoDB.
 */
export async function startDynamo(tableName = 'reliability-table', options: { inProcess?: boolean } = {}): Promise<LocalDynamo> {
  let endpoint: string;
  let stopServer: () => Promise<void>;
  if (options.inProcess === false) {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'dynalite-process.ts')], { stdio: ['pipe', 'pipe', 'inherit'] });
    const port = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString('utf8');
        if (out.includes('\n')) resolve(out.trim());
      });
      child.on('exit', (code) => reject(new Error(`dynalite exited with ${code}`)));
    });
    endpoint = `http://127.0.0.1:${port}`;
    stopServer = async () => {
      const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
      child.kill('SIGTERM');
      await exited;
    };
  } else {
    const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = urlOf(server);
    stopServer = () => close(server);
  }
  const raw = new DynamoDBClient({ ...LOCAL_AWS, endpoint });
  try {
    await createProjectTable(raw, tableName);
  } catch (error) {
    raw.destroy();
    await stopServer();
    throw error;
  }
  const doc = DynamoDBDocumentClient.from(raw);
  return {
    endpoint,
    tableName,
    doc,
    items: async (prefix = '') => {
      const out: Array<Record<string, unknown>> = [];
      let start: Record<string, unknown> | undefined;
      do {
        const page = await doc.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: start, ConsistentRead: true }));
        for (const item of page.Items ?? []) if (String(item.pk).startsWith(prefix)) out.push(item);
        start = page.LastEvaluatedKey;
      } while (start);
      return out;
    },
    stop: async () => {
      raw.destroy();
      await stopServer();
    },
  };
}

/** One email as aws-ses-v2-local stores it. */
export type StoredEmail = SesStoreEmail;

/** The local SES v2 server and its store of sent mail. */
export interface LocalSes extends Stoppable {
  readonly endpoint: string;
  /** Emails sent to `to` (the store is process-wide, so tests use recipients of their own). */
  emailsTo(to: string): Promise<StoredEmail[]>;
  all(): Promise<StoredEmail[]>;
}

/** Starts aws-ses-v2-local on a free loopback port. */
export async function startSes(): Promise<LocalSes> {
  const server = await sesServer({ host: '127.0.0.1', port: 0 });
  const endpoint = urlOf(server);
  const all = (): Promise<StoredEmail[]> => readSesStore(endpoint);
  return {
    endpoint,
    all,
    emailsTo: async (to) => (await all()).filter((e) => e.destination.to.some((x) => x.toLowerCase().includes(to.toLowerCase()))),
    stop: () => close(server),
  };
}

/**
 * Starts services side by side. If one fails to start, stops those that did before rethrowing: a
 * `before` hook that fails then leaves no server or child process open, so mocha reports the failure
 * and exits instead of waiting on them.
 */
export async function startTogether<const T extends readonly Promise<Stoppable>[]>(...starting: T): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const settled = await Promise.allSettled(starting);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await Promise.allSettled(settled.map((s) => (s.status === 'fulfilled' ? s.value.stop() : undefined)));
    throw failed.reason;
  }
  return settled.map((s) => (s as PromiseFulfilledResult<Stoppable>).value) as { -readonly [K in keyof T]: Awaited<T[K]> };
}
