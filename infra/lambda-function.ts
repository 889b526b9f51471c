import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { Construct } from 'constructs';
import { AssetType, TerraformAsset, type ITerraformDependable } from 'cdktf';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function';
import { LambdaPermission } from '@cdktf/provider-aws/lib/lambda-permission';
import type { FunctionKind, FunctionName } from '../functions/catalog.ts';
import { LAMBDA_ARCHITECTURE, LAMBDA_RUNTIME } from '../functions/runtime.ts';
import { allow, assumeRolePolicy, policyDocument, type PolicyStatement } from './iam.ts';

/** Seconds each kind of function may run. Cognito abandons a synchronous trigger after 5 s. */
export const TIMEOUT_SECONDS: Readonly<Record<FunctionKind, number>> = {
  'sync-trigger': 5,
  // Cognito invokes senders asynchronously and Lambda retries them, so a slow provider is not fatal.
  'async-trigger': 15,
  // Below the workflow task's 30 s TimeoutSeconds, so a timeout is reported by Lambda, not guessed by Step Functions.
  'workflow-task': 20,
  // A batch of stream records; room for the idempotency records and SES with background retries, record after record.
  'async-task': 20,
};

export interface ProjectFunctionProps {
  /** Catalog name; the folder under functions/ and dist/, and POWERTOOLS_SERVICE_NAME. */
  readonly name: FunctionName;
  /** How the function is invoked; decides its timeout. */
  readonly kind: FunctionKind;
  /** One-line description shown in the Lambda console. */
  readonly description: string;
  /** Deployed function name (also the role and log group name). */
  readonly functionName: string;
  /** Absolute path of the reproducible bundle, dist/<name>.zip. */
  readonly zipPath: string;
  /** Function-specific environment from the runtime contract; the common two are added here. */
  readonly environment: Readonly<Record<string, string>>;
  /** Statements granted besides logging. Statements naming the user pool go through `addPolicy` instead. */
  readonly statements: readonly PolicyStatement[];
  /** Log level for Powertools and for Lambda's application log filter. */
  readonly logLevel: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /** CloudWatch Logs retention of the function's log group. */
  readonly logRetentionDays: number;
  /** Memory in MB. */
  readonly memoryMb: number;
  /** Account the role trusts Lambda in (confused-deputy guard). */
  readonly accountId: string;
  /**
   * Resources Terraform must create before this function, besides its own policy: e.g. the consumer of
   * the work it queues, so no deployment runs its code before what that code relies on exists.
   */
  readonly startAfter?: readonly ITerraformDependable[];
}

/**
 * Any function of the catalog (Cognito trigger, workflow task or stream consumer): one Lambda function
 * with its own role, log group and least-privilege policy. The logging policy
 * names only the function's own log group.
 */
export class ProjectFunction extends Construct {
  /** The Lambda function. */
  readonly function: LambdaFunction;
  /** The execution role, used by nothing else. */
  readonly role: IamRole;
  /** The function's own log group. */
  readonly logGroup: CloudwatchLogGroup;
  /** Logging plus the statements passed in props. */
  readonly policy: IamRolePolicy;
  /** Catalog name. */
  readonly name: FunctionName;
  /** How the function is invoked (catalog kind), which decides the alarms that watch it. */
  readonly kind: FunctionKind;

  constructor(scope: Construct, id: string, props: ProjectFunctionProps) {
    super(scope, id);
    this.name = props.name;
    this.kind = props.kind;
    if (!existsSync(props.zipPath)) {
      throw new Error(`Bundle ${props.zipPath} is missing; run \`make build\` (node --import tsx scripts/build.ts) before synth`);
    }
    // Terraform compares this with the deployed code; the zip is byte-reproducible, so it only changes with the source.
    const sourceCodeHash = createHash('sha256').update(readFileSync(props.zipPath)).digest('base64');
    // FILE, not ARCHIVE: the zip is already reproducible, and ARCHIVE re-zips with file modification times.
    const asset = new TerraformAsset(this, 'code', { path: props.zipPath, type: AssetType.FILE });

    this.logGroup = new CloudwatchLogGroup(this, 'logs', {
      name: `/aws/lambda/${props.functionName}`,
      retentionInDays: props.logRetentionDays,
    });
    this.role = new IamRole(this, 'role', {
      name: props.functionName,
      description: `Execution role of ${props.functionName} only`,
      assumeRolePolicy: assumeRolePolicy('lambda.amazonaws.com', props.accountId),
    });
    this.policy = new IamRolePolicy(this, 'policy', {
      name: 'own-resources',
      role: this.role.id,
      policy: policyDocument([
        allow('OwnLogGroup', ['logs:CreateLogStream', 'logs:PutLogEvents'], [`${this.logGroup.arn}:*`]),
        ...props.statements,
      ]),
    });
    this.function = new LambdaFunction(this, 'function', {
      functionName: props.functionName,
      description: props.description,
      role: this.role.arn,
      runtime: LAMBDA_RUNTIME,
      architectures: [LAMBDA_ARCHITECTURE],
      handler: 'index.handler',
      filename: asset.path,
      sourceCodeHash,
      timeout: TIMEOUT_SECONDS[props.kind],
      memorySize: props.memoryMb,
      environment: {
        variables: {
          ...props.environment,
          POWERTOOLS_SERVICE_NAME: props.name,
          POWERTOOLS_LOG_LEVEL: props.logLevel,
        },
      },
      loggingConfig: {
        logFormat: 'JSON',
        logGroup: this.logGroup.name,
        // Equal to POWERTOOLS_LOG_LEVEL: Powertools defers to Lambda's filter and warns when they differ.
        applicationLogLevel: props.logLevel,
        systemLogLevel: 'INFO',
      },
      // The first invocation must be able to log.
      dependsOn: [this.policy, ...(props.startAfter ?? [])],
    });
  }

  /** The function's ARN. */
  get arn(): string {
    return this.function.arn;
  }

  /** The deployed function name. */
  get functionName(): string {
    return this.function.functionName;
  }

  /**
   * Grants statements in a separate inline policy. Use it for statements naming the user pool: the pool
   * depends on the function, so putting them in the function's own policy would be a cycle.
   */
  addPolicy(id: string, statements: readonly PolicyStatement[]): IamRolePolicy {
    return new IamRolePolicy(this, id, { name: id, role: this.role.id, policy: policyDocument(statements) });
  }


  /** Lets Cognito invoke the function on behalf of one user pool only. */
  allowCognito(userPoolArn: string): LambdaPermission {
    return new LambdaPermission(this, 'cognito-invoke', {
      statementId: 'CognitoUserPoolInvoke',
      action: 'lambda:InvokeFunction',
      functionName: this.function.functionName,
      principal: 'cognito-idp.amazonaws.com',
      sourceArn: userPoolArn,
    });
  }
}
