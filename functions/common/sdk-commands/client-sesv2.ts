/** `@aws-sdk/client-sesv2` as the synchronous triggers' bundles see it: the commands they send (see ./command.ts). */
import type { SendEmailCommandInput } from '@aws-sdk/client-sesv2';
import { commandClass } from './command.ts';

export const SendEmailCommand = commandClass<SendEmailCommandInput>('SendEmail');
