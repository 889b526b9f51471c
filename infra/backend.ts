import { LocalBackend, S3Backend, type TerraformStack } from 'cdktf';

/** Where remote state lives. */
export interface RemoteState {
  /** S3 bucket (versioned, encrypted; see `make bootstrap`). */
  readonly bucket: string;
  /** Object key of this stack's state. */
  readonly key: string;
  /** Region of the bucket. */
  readonly region: string;
}

/**
 * Remote state settings from TF_STATE_BUCKET, TF_STATE_KEY and TF_STATE_REGION, or undefined when no
 * bucket is set. The key defaults to `<stack>/terraform.tfstate`, the region to the stack's.
 */
export function remoteStateFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  defaults: { readonly stackName: string; readonly region: string },
): RemoteState | undefined {
  const bucket = env.TF_STATE_BUCKET?.trim();
  if (!bucket) return undefined;
  return {
    bucket,
    key: env.TF_STATE_KEY?.trim() || `${defaults.stackName}/terraform.tfstate`,
    region: env.TF_STATE_REGION?.trim() || defaults.region,
  };
}

/**
 * Local state by default (works offline); S3 with Terraform's native lock file when `remote` is given.
 */
export function addStateBackend(stack: TerraformStack, stackName: string, remote?: RemoteState): LocalBackend | S3Backend {
  if (!remote) return new LocalBackend(stack, { path: `terraform.${stackName}.tfstate` });
  const backend = new S3Backend(stack, { bucket: remote.bucket, key: remote.key, region: remote.region, encrypt: true });
  // cdktf 0.21's S3BackendConfig predates use_lockfile (Terraform >= 1.10); it replaces the DynamoDB lock table.
  stack.addOverride('terraform.backend.s3.use_lockfile', true);
  return backend;
}
