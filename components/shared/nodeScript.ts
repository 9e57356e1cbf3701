import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";

/**
 * Runs one of this project's TypeScript scripts with Node, without a shell: the interpreter is an
 * argument list, so the same resource works from PowerShell, cmd, bash and zsh. Parameters travel
 * as environment variables (no quoting rules to get wrong; secrets stay out of the command line).
 * Paths are relative to the project folder, so inputs are the same on every machine.
 */
export function nodeScriptCommand(
  name: string,
  args: {
    /** Script path relative to the project folder, e.g. `scripts/verify-rollout.ts`. */
    script: string;
    environment: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** Any change replaces the resource, which runs the script again (with the argument `run`). */
    triggers: pulumi.Input<unknown[]>;
    /**
     * The script's argument when other inputs change (an update); without it, an update runs the script as
     * a create would. The provider puts the previous stdout in PULUMI_COMMAND_STDOUT, and the update's stdout
     * replaces it.
     */
    update?: string;
    /** Extra outputs to keep encrypted in state (stdout when it may echo something sensitive). */
    additionalSecretOutputs?: string[];
    logging?: command.local.Logging;
  },
  opts: pulumi.CustomResourceOptions,
): command.local.Command {
  return new command.local.Command(
    name,
    {
      interpreter: ["node", "--require", "ts-node/register/transpile-only", args.script],
      create: "run",
      ...(args.update ? { update: args.update } : {}),
      environment: args.environment,
      triggers: args.triggers,
      logging: args.logging ?? "stderr",
    },
    { ...opts, additionalSecretOutputs: args.additionalSecretOutputs ?? opts.additionalSecretOutputs },
  );
}
