import { Construct } from 'constructs';
import { Sesv2EmailIdentity } from '@cdktf/provider-aws/lib/sesv2-email-identity';

export interface EmailIdentityProps {
  /** The sender address; SES emails it a verification link on creation. */
  readonly fromAddress: string;
  /** Recipients to verify while the account is in the SES sandbox. */
  readonly receiverAddresses: readonly string[];
}

/** SES identities: the sender, and the recipients the SES sandbox requires to be verified. */
export class EmailIdentity extends Construct {
  /** The sender identity. */
  readonly sender: Sesv2EmailIdentity;
  /** Receiver identities, in configuration order. */
  readonly receivers: readonly Sesv2EmailIdentity[];

  constructor(scope: Construct, id: string, props: EmailIdentityProps) {
    super(scope, id);
    this.sender = new Sesv2EmailIdentity(this, 'sender', { emailIdentity: props.fromAddress });
    this.receivers = props.receiverAddresses.map(
      (address, i) => new Sesv2EmailIdentity(this, `receiver-${i}`, { emailIdentity: address }),
    );
  }

  /** ARN of the sender identity (the user pool's SES source). */
  get senderArn(): string {
    return this.sender.arn;
  }

  /**
   * Every identity ses:SendEmail must be allowed on: the sender, plus the receivers, because in the SES
   * sandbox SES also authorises the recipient identity.
   */
  get sendEmailResources(): string[] {
    return [this.sender.arn, ...this.receivers.map((r) => r.arn)];
  }
}
