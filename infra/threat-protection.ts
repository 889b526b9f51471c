import { Construct } from 'constructs';
import { CognitoRiskConfiguration } from '@cdktf/provider-aws/lib/cognito-risk-configuration';
import type { BrandingSettings } from '../functions/common/config.ts';
import { renderEmail } from '../functions/common/templates.ts';

/** What Cognito may do about a sign-in it rates as an account-takeover risk. */
export type TakeoverAction = 'NO_ACTION' | 'MFA_IF_CONFIGURED' | 'MFA_REQUIRED' | 'BLOCK';

/** The operations on which compromised credentials are refused: every path that takes a password. */
export const COMPROMISED_CREDENTIALS_EVENTS = ['SIGN_IN', 'SIGN_UP', 'PASSWORD_CHANGE'] as const;

export interface ThreatProtectionProps {
  /** The user pool (on the PLUS feature plan, with advanced security mode AUDIT or ENFORCED). */
  readonly userPoolId: string;
  /** Action per account-takeover risk level. */
  readonly actions: { readonly low: TakeoverAction; readonly medium: TakeoverAction; readonly high: TakeoverAction };
  /** Email the user whenever an action is taken. */
  readonly notify: boolean;
  /** Branding of the notification emails (the project's templates). */
  readonly branding: BrandingSettings;
  /** Sender of the notification emails, `Name <address>`. */
  readonly from: string;
  /** ARN of the sender's SES identity. */
  readonly sesIdentityArn: string;
}

/**
 * Cognito threat protection for the pool: credentials found in public breaches are refused on sign-in,
 * sign-up and password change (BLOCK), and each account-takeover risk level gets its configured action.
 *
 * The notification emails are the project's account-takeover template, rendered at synth time with the
 * app's branding. In `cognito` delivery mode Cognito sends them through SES with these bodies; in
 * `custom-senders` mode it hands them to the custom email sender as `AccountTakeOverNotification`, which
 * renders the same template. Either way the user hears one voice.
 */
export class ThreatProtection extends Construct {
  /** The risk configuration. */
  readonly riskConfiguration: CognitoRiskConfiguration;

  constructor(scope: Construct, id: string, props: ThreatProtectionProps) {
    super(scope, id);
    const email = renderEmail('AccountTakeOverNotification', { branding: props.branding, recipient: {} });
    const body = { subject: email.subject, htmlBody: email.html, textBody: email.text };
    const action = (eventAction: TakeoverAction) => ({ eventAction, notify: props.notify });
    this.riskConfiguration = new CognitoRiskConfiguration(this, 'risk', {
      userPoolId: props.userPoolId,
      compromisedCredentialsRiskConfiguration: {
        eventFilter: [...COMPROMISED_CREDENTIALS_EVENTS],
        actions: { eventAction: 'BLOCK' },
      },
      accountTakeoverRiskConfiguration: {
        actions: { lowAction: action(props.actions.low), mediumAction: action(props.actions.medium), highAction: action(props.actions.high) },
        notifyConfiguration: { from: props.from, sourceArn: props.sesIdentityArn, blockEmail: body, mfaEmail: body, noActionEmail: body },
      },
    });
  }
}
