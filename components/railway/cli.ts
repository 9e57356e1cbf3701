/** Finding and running the Railway CLI, and what it needs in its environment. Pure functions. */
import * as path from "node:path";

export const INSTALL_HINT =
  "Install the Railway CLI with `npm i -g @railway/cli` (its postinstall downloads the binary from GitHub), " +
  "`brew install railway` or `scoop install railway`, or point `pulumi config set tfserving-platform:railwayCli <path>` at it.";

export interface ExecutableSearch {
  platform: NodeJS.Platform;
  /** The PATH (or Path) environment variable. */
  pathEnv: string | undefined;
  /** PATHEXT on Windows, e.g. `.COM;.EXE;.BAT;.CMD`. */
  pathExt: string | undefined;
  isFile: (candidate: string) => boolean;
}

/**
 * Where `name` (a bare command name or a path) resolves, as a shell would find it: on Windows it
 * tries the PATHEXT extensions, so `railway` finds `railway.exe` or npm's `railway.cmd` shim.
 */
export function resolveExecutable(name: string, search: ExecutableSearch): string | undefined {
  const windows = search.platform === "win32";
  const paths = windows ? path.win32 : path.posix;
  const extensions = windows ? windowsExtensions(name, search.pathExt) : [""];
  const hasDirectory = windows ? /[\\/]/.test(name) : name.includes("/");
  const directories = hasDirectory ? [""] : (search.pathEnv ?? "").split(windows ? ";" : ":").filter((dir) => dir !== "");
  for (const directory of directories) {
    for (const extension of extensions) {
      const candidate = directory === "" ? name + extension : paths.join(directory, name + extension);
      if (search.isFile(candidate)) return candidate;
    }
  }
  return undefined;
}

function windowsExtensions(name: string, pathExt: string | undefined): string[] {
  // Windows file names are case-insensitive; lower case just reads better in messages.
  const extensions = (pathExt ?? ".COM;.EXE;.BAT;.CMD").split(";").filter((ext) => ext !== "").map((ext) => ext.toLowerCase());
  // A name that already carries an executable extension is tried as it is first.
  return extensions.includes(path.win32.extname(name).toLowerCase()) ? ["", ...extensions] : extensions;
}

export interface SpawnPlan {
  command: string;
  args: string[];
  windowsVerbatimArguments?: boolean;
}

/**
 * How to start a resolved executable without a shell string. Node refuses to spawn `.cmd`/`.bat`
 * directly on Windows, so those go through `cmd.exe /d /s /c` with every argument quoted; an argument
 * cmd would still interpret inside quotes (`"`, `%`, line breaks) is refused rather than mangled.
 */
export function spawnPlan(platform: NodeJS.Platform, executable: string, args: string[], comSpec?: string): SpawnPlan {
  if (platform !== "win32" || !/\.(cmd|bat)$/i.test(executable)) return { command: executable, args };
  const quoted = [executable, ...args].map((arg) => {
    if (/["%\r\n]/.test(arg)) throw new Error(`cannot pass ${JSON.stringify(arg)} safely through ${path.win32.basename(executable)}`);
    return `"${arg}"`;
  });
  return { command: comSpec ?? "cmd.exe", args: ["/d", "/s", "/c", `"${quoted.join(" ")}"`], windowsVerbatimArguments: true };
}

export type RailwayAuth = { kind: "project" } | { kind: "account"; projectId: string; environmentId: string };

/** Which token the CLI will use; refuses ambiguous or incomplete setups before anything runs. */
export function railwayAuth(env: Record<string, string | undefined>): RailwayAuth {
  const projectToken = env.RAILWAY_TOKEN;
  const accountToken = env.RAILWAY_API_TOKEN;
  if (projectToken && accountToken) {
    throw new Error("Both RAILWAY_TOKEN and RAILWAY_API_TOKEN are set; the CLI would silently prefer RAILWAY_TOKEN. Set only one.");
  }
  if (projectToken) return { kind: "project" };
  if (accountToken) {
    const projectId = env.RAILWAY_PROJECT_ID;
    const environmentId = env.RAILWAY_ENVIRONMENT_ID;
    if (!projectId || !environmentId) {
      throw new Error(
        "RAILWAY_API_TOKEN (an account token) needs RAILWAY_PROJECT_ID and RAILWAY_ENVIRONMENT_ID: " +
          "run `pulumi config set tfserving-platform:railwayProjectId <project id>` (and tfserving-platform:railwayEnvironment).",
      );
    }
    return { kind: "account", projectId, environmentId };
  }
  throw new Error(
    "No Railway token: set RAILWAY_TOKEN (a project token) or RAILWAY_API_TOKEN with RAILWAY_PROJECT_ID and RAILWAY_ENVIRONMENT_ID. " +
      "With Pulumi: `pulumi config set --secret tfserving-platform:railwayToken <token>`.",
  );
}

/** Environment for every CLI child: no background self-update, non-interactive. */
export function childEnvironment(env: Record<string, string | undefined>): Record<string, string | undefined> {
  return { ...env, RAILWAY_NO_AUTO_UPDATE: "1", CI: "true" };
}

/** Replaces every occurrence of a secret, so relayed CLI output can never leak the token. */
export function redact(text: string, secrets: (string | undefined)[]): string {
  let result = text;
  for (const secret of secrets) {
    if (secret) result = result.split(secret).join("[redacted]");
  }
  return result;
}
