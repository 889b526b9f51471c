import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Construct } from 'constructs';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { SfnStateMachine } from '@cdktf/provider-aws/lib/sfn-state-machine';
import { allow, assumeRolePolicy, policyDocument, type PolicyStatement } from './iam.ts';

/** The workflow definition, with `${placeholders}`. */
export const REMINDER_ASL_FILE = path.resolve(import.meta.dirname, '..', 'statemachines', 'signup-reminder.asl.json');

/** Values for every placeholder of the reminder workflow. */
export interface ReminderPlaceholders {
  readonly ReminderDelaySeconds: number;
  readonly DeletionDelaySeconds: number;
  readonly SendReminderFunctionArn: string;
  readonly DeleteUnconfirmedUserFunctionArn: string;
}

/**
 * Fills every `${name}` in an ASL template. Throws when a value is missing or a placeholder is left,
 * so a renamed placeholder cannot ship as literal text. The sandbox renders with its local ARNs.
 */
export function renderDefinition(template: string, values: Readonly<Record<string, string | number>>): string {
  const missing = new Set<string>();
  const rendered = template.replace(/\$\{([A-Za-z0-9_]+)\}/g, (whole, name: string) => {
    // cdktf tokens look like ${TfToken[...]}, which this pattern does not match, so they pass through.
    if (!(name in values)) {
      missing.add(name);
      return whole;
    }
    return String(values[name]);
  });
  if (missing.size > 0) throw new Error(`State machine definition has placeholders with no value: ${[...missing].join(', ')}`);
  return rendered;
}

/** Renders the reminder workflow file. */
export function renderReminderDefinition(values: ReminderPlaceholders, file = REMINDER_ASL_FILE): string {
  return renderDefinition(readFileSync(file, 'utf8'), { ...values });
}

/**
 * Escapes what Terraform would read as template syntax in literal text (`${`, `%{`), leaving cdktf
 * tokens, which must resolve to references.
 */
export function escapeTerraformTemplate(text: string): string {
  return text.replace(/\$\{(?!TfToken\[)/g, '$$${').replace(/%\{/g, '%%{');
}

/** The actions Step Functions needs to deliver execution logs to CloudWatch Logs. */
export const LOG_DELIVERY_ACTIONS = [
  'logs:CreateLogDelivery', 'logs:GetLogDelivery', 'logs:UpdateLogDelivery', 'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries', 'logs:PutResourcePolicy', 'logs:DescribeResourcePolicies', 'logs:DescribeLogGroups',
] as const;

export interface ReminderWorkflowProps {
  /** State machine name (also its role and log group name). */
  readonly name: string;
  /** Wait after sign-up before the reminder. */
  readonly reminderDelaySeconds: number;
  /** Wait after the reminder before deletion. */
  readonly deletionDelaySeconds: number;
  /** ARN of the send-reminder function. */
  readonly sendReminderFunctionArn: string;
  /** ARN of the delete-unconfirmed-user function. */
  readonly deleteUnconfirmedUserFunctionArn: string;
  /** CloudWatch Logs retention of the execution log group. */
  readonly logRetentionDays: number;
  /** Account the role trusts Step Functions in. */
  readonly accountId: string;
  /** The ASL template; defaults to statemachines/signup-reminder.asl.json. */
  readonly definitionFile?: string;
}

/** The sign-up reminder state machine with its own role, allowed to invoke only its two tasks. */
export class ReminderWorkflow extends Construct {
  /** The state machine. */
  readonly stateMachine: SfnStateMachine;
  /** Its role. */
  readonly role: IamRole;
  /** Its execution log group. */
  readonly logGroup: CloudwatchLogGroup;
  /** The role's policy statements, exposed for review and tests. */
  readonly statements: readonly PolicyStatement[];

  constructor(scope: Construct, id: string, props: ReminderWorkflowProps) {
    super(scope, id);
    const tasks = [props.sendReminderFunctionArn, props.deleteUnconfirmedUserFunctionArn];
    this.logGroup = new CloudwatchLogGroup(this, 'logs', {
      name: `/aws/vendedlogs/states/${props.name}`,
      retentionInDays: props.logRetentionDays,
    });
    this.role = new IamRole(this, 'role', {
      name: props.name,
      description: `Role of the ${props.name} state machine only`,
      assumeRolePolicy: assumeRolePolicy('states.amazonaws.com', props.accountId),
    });
    this.statements = [
      allow('InvokeItsTwoTasks', ['lambda:InvokeFunction'], [...tasks, ...tasks.map((arn) => `${arn}:*`)]),
      // CloudWatch Logs' log-delivery API has no resource-level permissions; AWS documents `*` here.
      allow('DeliverExecutionLogs', LOG_DELIVERY_ACTIONS, ['*']),
    ];
    const policy = new IamRolePolicy(this, 'policy', {
      name: 'invoke-tasks-and-log',
      role: this.role.id,
      policy: policyDocument(this.statements),
    });
    this.stateMachine = new SfnStateMachine(this, 'state-machine', {
      name: props.name,
      type: 'STANDARD',
      roleArn: this.role.arn,
      definition: escapeTerraformTemplate(renderReminderDefinition(
        {
          ReminderDelaySeconds: props.reminderDelaySeconds,
          DeletionDelaySeconds: props.deletionDelaySeconds,
          SendReminderFunctionArn: props.sendReminderFunctionArn,
          DeleteUnconfirmedUserFunctionArn: props.deleteUnconfirmedUserFunctionArn,
        },
        props.definitionFile,
      )),
      loggingConfiguration: {
        logDestination: `${this.logGroup.arn}:*`,
        level: 'ERROR',
        // Execution data holds the pool id and username; keep it out of the logs.
        includeExecutionData: false,
      },
      dependsOn: [policy],
    });
  }

  /** State machine ARN (pre-sign-up's REMINDER_STATE_MACHINE_ARN). */
  get arn(): string {
    return this.stateMachine.arn;
  }
}
