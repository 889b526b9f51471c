/**
 * The stacks the Terraform checks cover (scripts/terraform.ts) and the configuration each one plans.
 * Apart from that command, which awaits at top level, so tests can import the variants alone.
 */
import { loadConfig, type Config } from '../../infra/config.ts';

type DeliveryMode = Config['deliveryMode'];

/**
 * What threat protection needs, for the variants that check it: the PLUS feature plan and an enforced risk
 * configuration. The configured stack plans the per-IP limits (`waf.enabled` is on by default).
 */
export const THREAT_PROTECTION = { userPoolTier: 'PLUS', threatProtection: { mode: 'enforced' } } as const;

/** A stack the Terraform checks cover: one delivery mode, with or without threat protection. */
export interface StackVariant {
  readonly name: string;
  readonly overrides: { readonly deliveryMode: DeliveryMode } & Readonly<Record<string, unknown>>;
}

/** Both delivery modes as configured, then each with threat protection: every combination that changes which resources exist. */
export const VARIANTS: readonly StackVariant[] = [
  { name: 'custom-senders', overrides: { deliveryMode: 'custom-senders' } },
  { name: 'cognito', overrides: { deliveryMode: 'cognito' } },
  { name: 'custom-senders-threat-protection', overrides: { deliveryMode: 'custom-senders', ...THREAT_PROTECTION } },
  { name: 'cognito-threat-protection', overrides: { deliveryMode: 'cognito', ...THREAT_PROTECTION } },
];

/** The configured stack is the variant of its delivery mode with no further overrides. */
export function isConfigured(variant: StackVariant, configured: DeliveryMode): boolean {
  return variant.name === configured;
}

/**
 * The configuration planned for a variant: the configured one for the configured stack. The variants of
 * the other delivery mode switch passwordless sign-in the other way (with a placeholder app URL for its
 * links when the configuration has none), so the plans cover both delivery modes and both settings;
 * a variant's further overrides (threat protection) apply on top.
 */
export function variantConfig(variant: StackVariant, configured: Config = loadConfig()): Config {
  if (isConfigured(variant, configured.deliveryMode)) return configured;
  const { deliveryMode, ...further } = variant.overrides;
  const passwordless = deliveryMode === configured.deliveryMode ? configured.passwordless.enabled : !configured.passwordless.enabled;
  const appUrl = passwordless && configured.email.appUrl === '' ? { email: { appUrl: 'https://app.example.com' } } : {};
  return loadConfig({ overrides: { deliveryMode, passwordless: { enabled: passwordless }, ...appUrl, ...further } });
}
