/** What the example app's server tells the page at `config.json`: where the sandbox's pool is. */
export interface ExampleConfig {
  readonly userPoolId: string;
  readonly userPoolClientId: string;
  /** The sandbox's Cognito endpoint, which Amplify calls instead of `cognito-idp.<region>.amazonaws.com`. */
  readonly userPoolEndpoint: string;
  /** The sandbox console, where the codes are. */
  readonly consoleUrl?: string;
}
