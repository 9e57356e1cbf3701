import type { PlainConfig, SecretKey } from "./stackConfig";

/** What a part's cross-key checks and derived values see: every part's keys, parsed, and which secrets are set. */
export interface ConfigContext {
  stack: string;
  projectDir: string;
  plain: PlainConfig;
  /** Which secret keys the stack has set (an empty value counts as unset). */
  secretsPresent: Record<SecretKey, boolean>;
  /** A secret's raw value, for checks that must look at it; never echo it in a problem. */
  secretValue(name: SecretKey): string | undefined;
}
