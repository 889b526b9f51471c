/** Build-option experiments (filled in below). */
export type ExperimentsResult = Record<string, unknown>;

export async function runExperiments(_dir: string, _rounds: number, _invocations: number, _log: (m: string) => void): Promise<ExperimentsResult> {
  return {};
}
