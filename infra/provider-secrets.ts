import { Construct } from 'constructs';
import { SecretsmanagerSecret } from '@cdktf/provider-aws/lib/secretsmanager-secret';

export interface ProviderSecretsProps {
  /** Prefix of the secret names, e.g. `cognito-triggers-dev`. */
  readonly namePrefix: string;
  /** Days Secrets Manager keeps a deleted secret recoverable. */
  readonly recoveryWindowDays: number;
}

/**
 * The SendGrid and Twilio credentials. Terraform creates the secrets but never a version, so no value
 * is in the configuration or the state; the operator fills them in and the senders read them at runtime.
 */
export class ProviderSecrets extends Construct {
  /** `{"apiKey": "SG...."}` */
  readonly sendgrid: SecretsmanagerSecret;
  /** `{"accountSid": "AC...", "authToken": "...", "fromNumber": "+1..."}` or with `messagingServiceSid`. */
  readonly twilio: SecretsmanagerSecret;

  constructor(scope: Construct, id: string, props: ProviderSecretsProps) {
    super(scope, id);
    this.sendgrid = new SecretsmanagerSecret(this, 'sendgrid', {
      name: `${props.namePrefix}/sendgrid`,
      description: 'SendGrid credentials for the custom email sender, as JSON {"apiKey": "SG...."}. Set the value outside Terraform.',
      recoveryWindowInDays: props.recoveryWindowDays,
    });
    this.twilio = new SecretsmanagerSecret(this, 'twilio', {
      name: `${props.namePrefix}/twilio`,
      description: 'Twilio credentials for the custom SMS sender, as JSON {"accountSid", "authToken", "fromNumber" or "messagingServiceSid"}. Set the value outside Terraform.',
      recoveryWindowInDays: props.recoveryWindowDays,
    });
  }
}
