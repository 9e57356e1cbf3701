import { StackConfig, StackConfigError, parseStackConfig } from "../../components/config/stackConfig";

export type RawConfig = Record<string, string | undefined>;

/** The stack config parsed from raw values, as a stack in /project would see it. */
export const parse = (values: RawConfig, stack = "dev"): StackConfig => parseStackConfig({ stack, projectDir: "/project", values });

/** The error text for a config that must be rejected. */
export function problemsOf(values: RawConfig): string {
  try {
    parse(values);
  } catch (error) {
    expect(error).toBeInstanceOf(StackConfigError);
    return (error as Error).message;
  }
  throw new Error("expected the config to be rejected");
}
