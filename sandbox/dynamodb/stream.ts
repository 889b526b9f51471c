/**
 * DynamoDB Streams for the sandbox: a thin proxy in front of dynalite, which has no streams.
 *
 * Every request passes through unchanged. A write to a table with a stream (PutItem, UpdateItem,
 * DeleteItem, BatchWriteItem) is also turned into the stream records DynamoDB
 * would write: the proxy reads each item it touches before and after the write (consistent reads,
 * with writes to one item serialised so nothing slips in between) and emits INSERT, MODIFY or REMOVE
 * with the images the table's view type carries, in DynamoDB's attribute-value form. A write that
 * fails or changes nothing emits nothing, as in DynamoDB. Records go to `onRecords` in write order, each
 * with a sequence number that only grows. Differences from DynamoDB Streams are listed in docs/sandbox.md.
 */
import { randomBytes } from 'node:crypto';
import { DescribeTableCommand, DynamoDBClient, GetItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { awsOperation, bodyServer, listen, type Listening } from '../lib/http.ts';

/** What DynamoDB writes into a stream record (the table's `stream_view_type`). */
export type StreamViewType = 'KEYS_ONLY' | 'NEW_IMAGE' | 'OLD_IMAGE' | 'NEW_AND_OLD_IMAGES';

/** A table whose writes the proxy turns into stream records. */
export interface StreamedTable {
  readonly tableName: string;
  readonly streamArn: string;
  readonly viewType: StreamViewType;
}

export interface TableStreamProxyOptions {
  /** dynalite's URL. */
  readonly upstream: string;
  readonly region: string;
  /** Credentials for the proxy's own reads (dynalite checks their presence, not their value). */
  readonly credentials: { accessKeyId: string; secretAccessKey: string };
  readonly tables: readonly StreamedTable[];
  /** Told of each write's records, in order. */
  readonly onRecords?: (streamArn: string, records: DynamoDBRecord[]) => void;
}

type Item = Record<string, AttributeValue>;
type Json = Record<string, unknown>;

/** One item a write touches. */
interface Touched {
  readonly table: StreamedTable;
  readonly key: Item;
}

// dynalite has no transactions (TransactWriteItems), so there is nothing of them to stream.
const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem']);
/** Headers passed back from dynalite; the SDK checks the body's CRC32 against x-amz-crc32. */
const ANSWER_HEADERS = ['content-type', 'x-amzn-requestid', 'x-amz-crc32'];

/** Deterministic JSON of an attribute map, to compare images and to name a key. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Json)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The local DynamoDB endpoint, with streams. */
export class TableStreamProxy {
  private listening?: Listening;
  private readonly client: DynamoDBClient;
  private readonly tables = new Map<string, StreamedTable>();
  private readonly keySchemas = new Map<string, Promise<string[]>>();
  /** Tail of the chain of writes per item: a write waits for the previous one on the same item. */
  private readonly itemLocks = new Map<string, Promise<void>>();
  private sequence = 0n;
  /** Every record emitted, oldest first, by stream ARN (tests read them). */
  readonly records = new Map<string, DynamoDBRecord[]>();
  onRecords?: (streamArn: string, records: DynamoDBRecord[]) => void;

  constructor(private readonly options: TableStreamProxyOptions) {
    this.client = new DynamoDBClient({ region: options.region, endpoint: options.upstream, credentials: options.credentials, maxAttempts: 1 });
    for (const table of options.tables) {
      this.tables.set(table.tableName, table);
      this.records.set(table.streamArn, []);
    }
    this.onRecords = options.onRecords;
  }

  get url(): string {
    if (!this.listening) throw new Error('DynamoDB stream proxy not started');
    return this.listening.url;
  }

  async start(port = 0): Promise<void> {
    this.listening = await listen(
      bodyServer(async (req, res, body) => {
        const operation = awsOperation(req) ?? '';
        let input: Json | undefined;
        if (WRITES.has(operation)) {
          try {
            input = JSON.parse(body.toString('utf8')) as Json;
          } catch {
            input = undefined; // dynalite answers the malformed request itself.
          }
        }
        const touched = input ? await this.touchedBy(operation, input).catch(() => []) : [];
        let answer = touched.length === 0 ? await this.forward(req.headers, body) : await this.writeWithRecords(touched, () => this.forward(req.headers, body));
        if (operation === 'DescribeTable' && answer.status === 200) answer = this.withStream(answer);
        const headers: Record<string, string> = {};
        for (const name of ANSWER_HEADERS) {
          const value = answer.headers.get(name);
          if (value !== null) headers[name] = value;
        }
        res.writeHead(answer.status, { ...headers, 'content-length': answer.body.length });
        res.end(answer.body);
      }),
      port,
    );
  }

  async stop(): Promise<void> {
    this.client.destroy();
    await this.listening?.close();
  }

  private async forward(headers: import('node:http').IncomingHttpHeaders, body: Buffer): Promise<{ status: number; headers: Headers; body: Buffer }> {
    const pass: Record<string, string> = {};
    for (const [name, value] of Object.entries(headers)) {
      if (typeof value === 'string' && !['host', 'content-length', 'connection', 'expect'].includes(name)) pass[name] = value;
    }
    const answer = await fetch(`${this.options.upstream}/`, { method: 'POST', headers: pass, body });
    return { status: answer.status, headers: answer.headers, body: Buffer.from(await answer.arrayBuffer()) };
  }

  /**
   * dynalite describes no stream, so a DescribeTable of a streamed table gets the stream fields DynamoDB
   * reports (`StreamSpecification`, `LatestStreamArn`, `LatestStreamLabel`): tools that find the stream
   * that way, such as `make resend-welcome`, work against the sandbox as against AWS.
   */
  private withStream(answer: { status: number; headers: Headers; body: Buffer }): { status: number; headers: Headers; body: Buffer } {
    let parsed: { Table?: Json & { TableName?: string } };
    try {
      parsed = JSON.parse(answer.body.toString('utf8')) as typeof parsed;
    } catch {
      return answer;
    }
    const table = parsed.Table?.TableName ? this.tables.get(parsed.Table.TableName) : undefined;
    if (!table || !parsed.Table) return answer;
    Object.assign(parsed.Table, {
      StreamSpecification: { StreamEnabled: true, StreamViewType: table.viewType },
      LatestStreamArn: table.streamArn,
      LatestStreamLabel: table.streamArn.split('/stream/')[1] ?? '',
    });
    // The checksum dynalite computed is for the body as it was.
    const headers = new Headers(answer.headers);
    headers.delete('x-amz-crc32');
    return { ...answer, headers, body: Buffer.from(JSON.stringify(parsed)) };
  }

  private keySchema(tableName: string): Promise<string[]> {
    let schema = this.keySchemas.get(tableName);
    if (!schema) {
      schema = this.client
        .send(new DescribeTableCommand({ TableName: tableName }))
        .then((t) => (t.Table?.KeySchema ?? []).map((k) => k.AttributeName!).filter(Boolean));
      schema.catch(() => this.keySchemas.delete(tableName));
      this.keySchemas.set(tableName, schema);
    }
    return schema;
  }

  /** The items of streamed tables that a write request names. */
  private async touchedBy(operation: string, input: Json): Promise<Touched[]> {
    const found: Array<{ tableName: string; key?: Item; item?: Item }> = [];
    const tableName = String(input.TableName ?? '');
    switch (operation) {
      case 'PutItem':
        found.push({ tableName, item: input.Item as Item });
        break;
      case 'UpdateItem':
      case 'DeleteItem':
        found.push({ tableName, key: input.Key as Item });
        break;
      case 'BatchWriteItem':
        for (const [name, requests] of Object.entries((input.RequestItems ?? {}) as Record<string, Json[]>)) {
          for (const request of requests) {
            const put = request.PutRequest as { Item?: Item } | undefined;
            const del = request.DeleteRequest as { Key?: Item } | undefined;
            found.push({ tableName: name, ...(put?.Item ? { item: put.Item } : {}), ...(del?.Key ? { key: del.Key } : {}) });
          }
        }
        break;
    }
    const touched: Touched[] = [];
    for (const f of found) {
      const table = this.tables.get(f.tableName);
      if (!table) continue;
      const names = await this.keySchema(f.tableName);
      const source = f.key ?? f.item ?? {};
      const key: Item = {};
      for (const name of names) if (source[name]) key[name] = source[name]!;
      if (Object.keys(key).length === names.length) touched.push({ table, key });
    }
    return touched;
  }

  private async read(t: Touched): Promise<Item | undefined> {
    return (await this.client.send(new GetItemCommand({ TableName: t.table.tableName, Key: t.key, ConsistentRead: true }))).Item;
  }

  /** Runs `write` with every touched item locked, and emits the records of what it changed. */
  private async writeWithRecords<T extends { status: number }>(touched: Touched[], write: () => Promise<T>): Promise<T> {
    const ids = [...new Set(touched.map((t) => `${t.table.tableName}|${canonical(t.key)}`))].sort();
    const previous = ids.map((id) => this.itemLocks.get(id) ?? Promise.resolve());
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const tail = Promise.all(previous).then(() => held);
    for (const id of ids) this.itemLocks.set(id, tail);
    await Promise.all(previous);
    try {
      const before = await Promise.all(touched.map((t) => this.read(t)));
      const answer = await write();
      if (answer.status === 200) {
        const after = await Promise.all(touched.map((t) => this.read(t)));
        this.emit(touched, before, after);
      }
      return answer;
    } finally {
      release();
      for (const id of ids) if (this.itemLocks.get(id) === tail) this.itemLocks.delete(id);
    }
  }

  private emit(touched: Touched[], before: (Item | undefined)[], after: (Item | undefined)[]): void {
    const byStream = new Map<string, DynamoDBRecord[]>();
    const seen = new Set<string>();
    touched.forEach((t, i) => {
      const id = `${t.table.tableName}|${canonical(t.key)}`;
      if (seen.has(id)) return;
      seen.add(id);
      const record = this.record(t, before[i], after[i]);
      if (!record) return;
      const list = byStream.get(t.table.streamArn) ?? [];
      list.push(record);
      byStream.set(t.table.streamArn, list);
    });
    for (const [streamArn, records] of byStream) {
      this.records.get(streamArn)!.push(...records);
      this.onRecords?.(streamArn, records);
    }
  }

  private record(t: Touched, oldImage: Item | undefined, newImage: Item | undefined): DynamoDBRecord | undefined {
    if (!oldImage && !newImage) return undefined;
    if (oldImage && newImage && canonical(oldImage) === canonical(newImage)) return undefined;
    const eventName = !oldImage ? 'INSERT' : !newImage ? 'REMOVE' : 'MODIFY';
    const view = t.table.viewType;
    const withNew = newImage && (view === 'NEW_IMAGE' || view === 'NEW_AND_OLD_IMAGES');
    const withOld = oldImage && (view === 'OLD_IMAGE' || view === 'NEW_AND_OLD_IMAGES');
    this.sequence += 1n;
    const images = { ...(withNew ? { NewImage: newImage } : {}), ...(withOld ? { OldImage: oldImage } : {}) };
    return {
      eventID: randomBytes(16).toString('hex'),
      eventName,
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: this.options.region,
      eventSourceARN: t.table.streamArn,
      dynamodb: {
        ApproximateCreationDateTime: Math.floor(Date.now() / 1000),
        Keys: t.key as NonNullable<DynamoDBRecord['dynamodb']>['Keys'],
        ...(images as Pick<NonNullable<DynamoDBRecord['dynamodb']>, 'NewImage' | 'OldImage'>),
        // DynamoDB's sequence numbers are decimal strings that grow within a shard.
        SequenceNumber: (100_000_000_000_000_000_000n + this.sequence).toString(),
        SizeBytes: Buffer.byteLength(JSON.stringify({ Keys: t.key, ...images })),
        StreamViewType: view,
      },
    };
  }
}

