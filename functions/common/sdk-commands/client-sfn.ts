/** `@aws-sdk/client-sfn` as the synchronous triggers' bundles see it: the commands they send (see ./command.ts). */
import type { StartExecutionCommandInput } from '@aws-sdk/client-sfn';
import { commandClass } from './command.ts';

export const StartExecutionCommand = commandClass<StartExecutionCommandInput>('StartExecution');
