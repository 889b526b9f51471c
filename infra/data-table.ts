import { Construct } from 'constructs';
import { DynamodbTable } from '@cdktf/provider-aws/lib/dynamodb-table';
import { PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE } from '../functions/common/table.ts';

export interface DataTableProps {
  /** Table name. */
  readonly name: string;
  /** Refuse deletion of the table (profiles, lockout state, audit). */
  readonly deletionProtection: boolean;
}

/**
 * The single table (keys `pk`/`sk`, TTL `expiresAt`: functions/common/table.ts) holding profiles, sign-in attempt state, login
 * audit, dedupe markers and Powertools idempotency records.
 *
 * Its stream is the welcome email's outbox: a new profile saved PENDING by post-confirmation reaches
 * send-welcome-email through an event source mapping (infra/stream-trigger.ts). NEW_IMAGE is the
 * smallest view that carries the profile itself; KEYS_ONLY would make the consumer read it back.
 */
export class DataTable extends Construct {
  /** The table. */
  readonly table: DynamodbTable;

  constructor(scope: Construct, id: string, props: DataTableProps) {
    super(scope, id);
    this.table = new DynamodbTable(this, 'table', {
      name: props.name,
      billingMode: 'PAY_PER_REQUEST',
      hashKey: PARTITION_KEY,
      rangeKey: SORT_KEY,
      attribute: [
        { name: PARTITION_KEY, type: 'S' },
        { name: SORT_KEY, type: 'S' },
      ],
      ttl: { attributeName: TTL_ATTRIBUTE, enabled: true },
      pointInTimeRecovery: { enabled: true },
      serverSideEncryption: { enabled: true },
      deletionProtectionEnabled: props.deletionProtection,
      streamEnabled: true,
      streamViewType: 'NEW_IMAGE',
    });
  }

  /** Table name. */
  get name(): string {
    return this.table.name;
  }

  /** Table ARN, the resource of every item-level grant. */
  get arn(): string {
    return this.table.arn;
  }

  /** ARN of the table's stream (NEW_IMAGE), the source of event source mappings and of stream-read grants. */
  get streamArn(): string {
    return this.table.streamArn;
  }
}
