/**
 * A Secrets Manager stand-in holding the provider credentials the sender functions read at cold
 * start (GetSecretValue, plus PutSecretValue and DescribeSecret for tools and tests). Values come from
 * the sandbox options, never from function code, just as in AWS the operator fills them in.
 */
import { randomUUID } from 'node:crypto';
import { AwsError, awsJsonHandler, bodyServer, listen, type Listening } from './lib/http.ts';

export interface LocalSecret {
  readonly arn: string;
  readonly name: string;
  value?: string;
}

export class LocalSecretsManager {
  private readonly secrets: LocalSecret[];
  private listening?: Listening;
  /** GetSecretValue calls, for tests that check caching. */
  readonly reads: Array<{ secretId: string; at: number }> = [];

  constructor(secrets: readonly LocalSecret[]) {
    this.secrets = secrets.map((s) => ({ ...s }));
  }

  get url(): string {
    return this.listening!.url;
  }

  private find(id: unknown): LocalSecret {
    const s = this.secrets.find((x) => x.arn === id || x.name === id);
    if (!s) throw new AwsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    return s;
  }

  /** Sets a secret's value, as an operator would after `terraform apply`. */
  put(id: string, value: string): void {
    this.find(id).value = value;
  }

  async start(port = 0): Promise<void> {
    this.listening = await listen(
      bodyServer(
        awsJsonHandler('1.1', {
          GetSecretValue: (input) => {
            this.reads.push({ secretId: String(input.SecretId), at: Date.now() });
            const s = this.find(input.SecretId);
            if (s.value === undefined) throw new AwsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT");
            return { ARN: s.arn, Name: s.name, SecretString: s.value, VersionId: randomUUID(), VersionStages: ['AWSCURRENT'], CreatedDate: Date.now() / 1000 };
          },
          PutSecretValue: (input) => {
            const s = this.find(input.SecretId);
            s.value = String(input.SecretString);
            return { ARN: s.arn, Name: s.name, VersionId: randomUUID(), VersionStages: ['AWSCURRENT'] };
          },
          DescribeSecret: (input) => {
            const s = this.find(input.SecretId);
            return { ARN: s.arn, Name: s.name };
          },
        }),
      ),
      port,
    );
  }

  async stop(): Promise<void> {
    await this.listening?.close();
  }
}
