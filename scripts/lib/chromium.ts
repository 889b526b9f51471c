/**
 * Where the browser test's Chromium is, and how the project installs it when it is missing.
 *
 * The test drives Debian's `chromium` package through playwright-core (whose own browser download is
 * not used). `CHROMIUM_PATH` names another binary (Chrome, or Chromium elsewhere); otherwise the usual
 * Linux paths are tried: `/usr/bin/chromium` (Debian's package; GitHub's Ubuntu runners link theirs
 * there too) and `/usr/bin/chromium-browser`.
 */
import { existsSync } from 'node:fs';

/** The paths tried, in order, when `CHROMIUM_PATH` is not set. */
export const CHROMIUM_PATHS: readonly string[] = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

/** The Debian packages installed when no Chromium is found: the browser, and fonts so pages render text. */
export const CHROMIUM_PACKAGES: readonly string[] = ['chromium', 'fonts-liberation'];

/** The Chromium binary to use, or undefined when none is installed. */
export function findChromium(env: Readonly<Record<string, string | undefined>> = process.env, exists: (p: string) => boolean = existsSync): string | undefined {
  const chosen = env.CHROMIUM_PATH?.trim();
  if (chosen) return exists(chosen) ? chosen : undefined;
  return CHROMIUM_PATHS.find(exists);
}

/** What the machine allows. */
export interface InstallContext {
  readonly isRoot: boolean;
  /** `sudo` runs without asking for a password (CI runners). */
  readonly passwordlessSudo: boolean;
  readonly hasAptGet: boolean;
}

/** The commands that install Chromium here, or the reason they cannot, for a person to act on. */
export type InstallPlan = { readonly commands: ReadonlyArray<readonly string[]> } | { readonly refusal: string };

/** How to install Chromium on this machine: apt-get as root, or through passwordless sudo. */
export function installPlan(context: InstallContext): InstallPlan {
  const manual = `Install Chromium, for example Debian's package (apt-get install ${CHROMIUM_PACKAGES.join(' ')}), or set CHROMIUM_PATH to a Chromium or Chrome binary.`;
  if (!context.hasAptGet) return { refusal: `No Chromium found at ${CHROMIUM_PATHS.join(' or ')} and no apt-get to install it. ${manual}` };
  if (!context.isRoot && !context.passwordlessSudo) return { refusal: `No Chromium found at ${CHROMIUM_PATHS.join(' or ')}, and installing it needs root. ${manual}` };
  const sudo = context.isRoot ? [] : ['sudo', '--non-interactive', '--preserve-env=DEBIAN_FRONTEND'];
  // Another apt run on the machine holds the lock for a while; wait for it rather than fail.
  const lock = ['-o', 'DPkg::Lock::Timeout=600'];
  return {
    commands: [
      [...sudo, 'apt-get', ...lock, 'update'],
      [...sudo, 'apt-get', ...lock, 'install', '-y', '--no-install-recommends', ...CHROMIUM_PACKAGES],
    ],
  };
}
