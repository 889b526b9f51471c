import { Construct } from 'constructs';
import { DynamodbTable } from '@cdktf/provider-aws/lib/dynamodb-table';

export interface DataTableProps {
  /** Table name. */
  readonly name: string;
  /** Refuse deletion of the table (profiles, lockout state, audit). */
  readonly deletionProtection: boolean;
}

/**
 * The single table (keys `pk`/`sk`, TTL `expiresAt`) holding profiles, sign-in attempt state, login
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
      hashKey: 'pk',
      rangeKey: 'sk',
      attribute: [
        { name: 'pk', type: 'S' },
        { name: 'sk', type: 'S' },
      ],
      ttl: { attributeName: 'expiresAt', enabled: true },
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
