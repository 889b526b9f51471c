/**
 * Composes the app: one stack for the configured environment (config/default.json, config/$ENV.json,
 * CT_* overrides; TF_STATE_BUCKET switches to remote state). Run with `node --import tsx main.ts`.
 */
import { App } from 'cdktf';
import { remoteStateFromEnv } from './infra/backend.ts';
import { ConfigValidationError, loadConfig, stackName } from './infra/config.ts';
import { CognitoTriggersStack } from './infra/stack.ts';

let config;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof ConfigValidationError)) throw error;
  console.error(error.message);
  process.exit(1);
}
const name = stackName(config);
const app = new App();
new CognitoTriggersStack(app, name, {
  config,
  remoteState: remoteStateFromEnv(process.env, { stackName: name, region: config.region }),
});
app.synth();
