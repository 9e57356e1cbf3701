/**
 * Stack handling shared by `npm start` and `npm run test:live`: which backend a stack lives on, its
 * secrets provider, and select-or-create through Pulumi's Automation API.
 *
 * A backend the user chose (env, Pulumi.yaml or `pulumi login`) is always used as it is. Only when
 * there is none does `npm start` fall back to a file backend inside the project (git-ignored) with a
 * passphrase secrets provider, passed to the CLI through environment variables only.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { LocalWorkspace, PulumiCommand, Stack } from "@pulumi/pulumi/automation";
import { parse } from "yaml";

/** The fallback backend's folder, relative to the project (listed in .gitignore). */
export const PROJECT_LOCAL_BACKEND_DIR = ".pulumi-local";
/** The fallback's passphrase file inside that folder: generated once, read on every run. */
export const PASSPHRASE_FILE = "passphrase.txt";

/** Where a stack lives. `chosen`: whatever the user set up, untouched; `file`: a file backend we pass in. */
export type Backend =
  | { kind: "chosen"; source: string }
  | { kind: "file"; dir: string; passphrase: string };

export interface BackendProbe {
  env: NodeJS.ProcessEnv;
  projectDir: string;
  homeDir: string;
  /** A file's text, or undefined when it does not exist. */
  readText: (file: string) => string | undefined;
}

export const readTextIfPresent = (file: string): string | undefined => {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
};

export const processProbe = (projectDir: string): BackendProbe => ({
  env: process.env,
  projectDir,
  homeDir: os.homedir(),
  readText: readTextIfPresent,
});

/**
 * The backend the Pulumi CLI would use, described by where it comes from; undefined when the CLI is
 * logged in to none. Reads only environment and files, as the CLI does (`pulumi whoami` may log in
 * and write credentials, so it is no probe): PULUMI_BACKEND_URL, then `backend.url` in Pulumi.yaml,
 * then `current` in credentials.json under PULUMI_CREDENTIALS_PATH, PULUMI_HOME or ~/.pulumi.
 */
export function chosenBackend(probe: BackendProbe): string | undefined {
  if (probe.env.PULUMI_BACKEND_URL?.trim()) return "PULUMI_BACKEND_URL";

  const project = probe.readText(path.join(probe.projectDir, "Pulumi.yaml"));
  const backendUrl = (project === undefined ? undefined : (parse(project) as { backend?: { url?: unknown } } | null)?.backend?.url);
  if (typeof backendUrl === "string" && backendUrl.trim()) return "backend.url in Pulumi.yaml";

  const credentialsDir = probe.env.PULUMI_CREDENTIALS_PATH?.trim() || probe.env.PULUMI_HOME?.trim() || path.join(probe.homeDir, ".pulumi");
  const credentialsFile = path.join(credentialsDir, "credentials.json");
  const credentials = probe.readText(credentialsFile);
  if (credentials !== undefined) {
    let current: unknown;
    try {
      current = (JSON.parse(credentials) as { current?: unknown }).current;
    } catch {
      throw new Error(`${credentialsFile} is not valid JSON; fix it or run \`pulumi login\` again`);
    }
    if (typeof current === "string" && current.trim()) {
      // `npm run pulumi -- login` while on the fallback logs in to that folder: it stays the fallback, passphrase and all.
      if (current === fileBackendUrl(path.join(probe.projectDir, PROJECT_LOCAL_BACKEND_DIR))) return undefined;
      return `pulumi login (${withoutCredentials(current)})`;
    }
  }
  return undefined;
}

/** A backend URL fit for the console: any user name and password in it removed. */
export function withoutCredentials(backendUrl: string): string {
  try {
    const url = new URL(backendUrl);
    if (!url.username && !url.password) return backendUrl;
    url.username = "";
    url.password = "";
    return url.href;
  } catch {
    return backendUrl;
  }
}

/**
 * The absolute `file://` URL of a backend folder, as PULUMI_BACKEND_URL takes it. On Windows it is
 * `file://C:/...`, the form Pulumi's CLI has long read correctly (some releases misread `file:///C:/...`).
 */
export function fileBackendUrl(dir: string, platform: NodeJS.Platform = process.platform): string {
  if (platform === "win32") return `file://${path.win32.resolve(dir).split(path.win32.sep).join("/")}`;
  return pathToFileURL(path.resolve(dir)).href;
}

/** The passphrase in `<dir>/passphrase.txt`, generated (and the folder created) on first use. */
export function projectPassphrase(dir: string): string {
  const file = path.join(dir, PASSPHRASE_FILE);
  const existing = readTextIfPresent(file)?.trim();
  if (existing) return existing;
  fs.mkdirSync(dir, { recursive: true });
  const passphrase = randomBytes(24).toString("base64url");
  // Owner-only where the file system has modes; `wx` so two first runs never swap passphrases.
  try {
    fs.writeFileSync(file, `${passphrase}\n`, { mode: 0o600, flag: "wx" });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return fs.readFileSync(file, "utf8").trim();
    throw error;
  }
  return passphrase;
}

/** The user's backend when there is one, else the project-local file backend. */
export function backendFor(probe: BackendProbe): Backend {
  const source = chosenBackend(probe);
  if (source) return { kind: "chosen", source };
  const dir = path.join(probe.projectDir, PROJECT_LOCAL_BACKEND_DIR);
  return { kind: "file", dir, passphrase: projectPassphrase(dir) };
}

/** Environment the CLI gets for this backend; nothing for the user's own (their environment passes through). */
export function backendEnv(backend: Backend): Record<string, string> {
  if (backend.kind === "chosen") return {};
  return { PULUMI_BACKEND_URL: fileBackendUrl(backend.dir), PULUMI_CONFIG_PASSPHRASE: backend.passphrase };
}

/** One line for the console; never the passphrase. */
export function describeBackend(backend: Backend): string {
  return backend.kind === "chosen"
    ? `Pulumi backend: the one you chose (${backend.source})`
    : `Pulumi backend: none logged in, so a local file backend in ${backend.dir} (passphrase secrets provider)`;
}

/**
 * A PULUMI_HOME in `dir` for a throwaway stack, sharing the user's plugins (a link, a junction on
 * Windows) so that no provider downloads again; removing `dir` removes the link, not the plugins.
 */
export function throwawayPulumiHome(dir: string, env: NodeJS.ProcessEnv = process.env, homeDir = os.homedir()): string {
  const userPlugins = path.join(env.PULUMI_HOME?.trim() || path.join(homeDir, ".pulumi"), "plugins");
  fs.mkdirSync(userPlugins, { recursive: true });
  fs.mkdirSync(dir, { recursive: true });
  fs.symlinkSync(userPlugins, path.join(dir, "plugins"), "junction");
  return dir;
}

export interface OpenStackOptions {
  projectDir: string;
  stackName: string;
  backend: Backend;
  pulumiCommand: PulumiCommand;
  /**
   * A PULUMI_HOME of its own, so creating the stack does not change which stack the user's CLI has
   * selected for this project (the CLI records that under PULUMI_HOME, per project folder).
   */
  pulumiHome?: string;
  /** More environment for the CLI and the providers it starts, e.g. DOCKER_HOST for the engine the Docker CLI uses. */
  extraEnv?: Record<string, string>;
}

/**
 * Selects the stack, creating it when it does not exist. A file backend gets its folder created first
 * (the CLI does not) and a passphrase secrets provider; projectSettings is never set, since the
 * workspace would rewrite Pulumi.yaml.
 */
export async function selectOrCreateStack(options: OpenStackOptions): Promise<Stack> {
  const { backend } = options;
  if (backend.kind === "file") fs.mkdirSync(backend.dir, { recursive: true });
  return LocalWorkspace.createOrSelectStack(
    { stackName: options.stackName, workDir: options.projectDir },
    {
      pulumiCommand: options.pulumiCommand,
      envVars: { ...options.extraEnv, ...backendEnv(backend), ...(options.pulumiHome ? { PULUMI_HOME: options.pulumiHome } : {}) },
      ...(backend.kind === "file" ? { secretsProvider: "passphrase" } : {}),
    },
  );
}

/** `encryptionsalt:` in a stack file's text: the passphrase secrets provider's salt, tied to one passphrase. */
export function hasEncryptionSalt(stackFileText: string | undefined): boolean {
  return stackFileText !== undefined && /^encryptionsalt:/m.test(stackFileText);
}

/**
 * One line for the CLI's "incorrect passphrase" when the stack file holds an `encryptionsalt` whose
 * passphrase is gone (e.g. `.pulumi-local/` deleted: a new passphrase was generated, the old salt stayed
 * in Pulumi.<stack>.yaml). Undefined for any other error.
 */
export function passphraseLine(errorText: string, options: { stackName: string; backend: Backend; stackFileText: string | undefined }): string | undefined {
  if (!/incorrect passphrase/i.test(errorText) || !hasEncryptionSalt(options.stackFileText)) return undefined;
  const file = `Pulumi.${options.stackName}.yaml`;
  const removeSalt = `delete the \`encryptionsalt:\` line (and any \`secure:\` values, which only the old passphrase can read) from ${file}, then run npm start again`;
  return options.backend.kind === "file"
    ? `${file} holds the encryptionsalt of an earlier ${options.stackName} stack whose passphrase (${path.join(PROJECT_LOCAL_BACKEND_DIR, PASSPHRASE_FILE)}) is gone: ${removeSalt}.`
    : `${file} holds an encryptionsalt that PULUMI_CONFIG_PASSPHRASE does not match: set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) to the passphrase the stack was created with, or, if it is lost, ${removeSalt}.`;
}
