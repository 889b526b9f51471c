import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import validator from 'asl-validator';
import { escapeTerraformTemplate, REMINDER_ASL_FILE, renderDefinition, renderReminderDefinition } from '../../infra/reminder-workflow.ts';

const VALUES = {
  ReminderDelaySeconds: 86_400,
  DeletionDelaySeconds: 3_600,
  SendReminderFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:cognito-triggers-dev-send-reminder',
  DeleteUnconfirmedUserFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:cognito-triggers-dev-delete-unconfirmed-user',
};

describe('reminder workflow definition', () => {
  it('fills every placeholder and is accepted by asl-validator', () => {
    const rendered = renderReminderDefinition(VALUES);
    expect(rendered).not.to.match(/\$\{[A-Za-z0-9_]+\}/);
    const definition = JSON.parse(rendered) as { States: Record<string, { Resource?: string; Seconds?: number }> };
    const result = validator(definition);
    expect(result.isValid, result.errorsText('\n')).to.equal(true);
    expect(definition.States.SendReminder!.Resource).to.equal(VALUES.SendReminderFunctionArn);
    expect(definition.States.DeleteUnconfirmedUser!.Resource).to.equal(VALUES.DeleteUnconfirmedUserFunctionArn);
    expect(definition.States.WaitBeforeDeletion!.Seconds).to.equal(3_600);
  });

  it('uses every value it is given: the file has exactly the four documented placeholders', () => {
    const names = [...readFileSync(REMINDER_ASL_FILE, 'utf8').matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1]);
    expect([...new Set(names)].sort()).to.deep.equal(Object.keys(VALUES).sort());
  });

  it('refuses to render when a placeholder has no value', () => {
    expect(() => renderDefinition('{"Seconds": ${Delay}, "Resource": "${Arn}"}', { Delay: 1 })).to.throw('Arn');
  });

  it('escapes literal template syntax for Terraform but keeps cdktf tokens as references', () => {
    expect(escapeTerraformTemplate('see ${...} and %{if} and ${TfToken[TOKEN.7]}')).to.equal('see $${...} and %%{if} and ${TfToken[TOKEN.7]}');
  });
});
