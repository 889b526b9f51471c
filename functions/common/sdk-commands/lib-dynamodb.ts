/** `@aws-sdk/lib-dynamodb` as the synchronous triggers' bundles see it: the document commands they send (see ./command.ts). */
import type { DeleteCommandInput, GetCommandInput, PutCommandInput, UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { commandClass } from './command.ts';

const DOCUMENT = { document: true };

export const GetCommand = commandClass<GetCommandInput>('GetItem', DOCUMENT);
export const PutCommand = commandClass<PutCommandInput>('PutItem', DOCUMENT);
export const UpdateCommand = commandClass<UpdateCommandInput>('UpdateItem', DOCUMENT);
export const DeleteCommand = commandClass<DeleteCommandInput>('DeleteItem', DOCUMENT);
