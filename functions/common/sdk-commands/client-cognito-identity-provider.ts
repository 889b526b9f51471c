/** `@aws-sdk/client-cognito-identity-provider` as the synchronous triggers' bundles see it: the commands they send (see ./command.ts). */
import type { AdminGetUserCommandInput, AdminInitiateAuthCommandInput } from '@aws-sdk/client-cognito-identity-provider';
import { commandClass } from './command.ts';

export const AdminGetUserCommand = commandClass<AdminGetUserCommandInput>('AdminGetUser');
export const AdminInitiateAuthCommand = commandClass<AdminInitiateAuthCommandInput>('AdminInitiateAuth');
