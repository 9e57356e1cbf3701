import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import {
  BackendProbe,
  PASSPHRASE_FILE,
  PROJECT_LOCAL_BACKEND_DIR,
  backendEnv,
  backendFor,
  chosenBackend,
  describeBackend,
  fileBackendUrl,
  projectPassphrase,
  throwawayPulumiHome,
  withoutCredentials,
} from "../../scripts/automation/stackHandling";

const PROJECT = path.resolve("/project");
const HOME = path.resolve("/home/user");

/** A probe over an in-memory file system. */
function probe(env: NodeJS.ProcessEnv, files: Record<string, string> = {}): BackendProbe {
  return { env, projectDir: PROJECT, homeDir: HOME, readText: (file) => files[path.resolve(file)] };
}

const credentials = (current: string) => JSON.stringify({ current, accessTokens: { [current]: "pul-x" }, accounts: {} });

describe("chosenBackend: is the CLI logged in to a backend, decided from env and files only", () => {
  it("takes PULUMI_BACKEND_URL first", () => {
    expect(chosenBackend(probe({ PULUMI_BACKEND_URL: "s3://bucket" }, { [path.join(HOME, ".pulumi", "credentials.json")]: credentials("https://api.pulumi.com") }))).toBe(
      "PULUMI_BACKEND_URL",
    );
  });

  it("then backend.url in the project's Pulumi.yaml", () => {
    expect(chosenBackend(probe({}, { [path.join(PROJECT, "Pulumi.yaml")]: "name: p\nruntime: nodejs\nbackend:\n  url: file://~\n" }))).toBe("backend.url in Pulumi.yaml");
  });

  it("then `current` in ~/.pulumi/credentials.json", () => {
    expect(chosenBackend(probe({}, { [path.join(HOME, ".pulumi", "credentials.json")]: credentials("https://api.pulumi.com") }))).toBe(
      "pulumi login (https://api.pulumi.com)",
    );
  });

  it("never shows a user name or password of the backend URL", () => {
    expect(chosenBackend(probe({}, { [path.join(HOME, ".pulumi", "credentials.json")]: credentials("postgres://state:s3cret@db.example.com/pulumi") }))).toBe(
      "pulumi login (postgres://db.example.com/pulumi)",
    );
    expect(withoutCredentials("https://api.pulumi.com")).toBe("https://api.pulumi.com");
  });

  it("treats a login to the project's own fallback folder (npm run pulumi -- login) as no choice, so the passphrase still applies", () => {
    const fallback = fileBackendUrl(path.join(PROJECT, PROJECT_LOCAL_BACKEND_DIR));
    expect(chosenBackend(probe({}, { [path.join(HOME, ".pulumi", "credentials.json")]: credentials(fallback) }))).toBeUndefined();
  });

  it("reads credentials.json under PULUMI_CREDENTIALS_PATH before PULUMI_HOME, and PULUMI_HOME before ~/.pulumi", () => {
    const files = {
      [path.resolve("/creds/credentials.json")]: credentials("file:///creds-backend"),
      [path.resolve("/pulumi-home/credentials.json")]: credentials("file:///home-backend"),
      [path.join(HOME, ".pulumi", "credentials.json")]: credentials("https://api.pulumi.com"),
    };
    expect(chosenBackend(probe({ PULUMI_CREDENTIALS_PATH: path.resolve("/creds"), PULUMI_HOME: path.resolve("/pulumi-home") }, files))).toBe(
      "pulumi login (file:///creds-backend)",
    );
    expect(chosenBackend(probe({ PULUMI_HOME: path.resolve("/pulumi-home") }, files))).toBe("pulumi login (file:///home-backend)");
    // PULUMI_HOME without credentials there means logged out, even when ~/.pulumi has some: the CLI would not look there.
    expect(chosenBackend(probe({ PULUMI_HOME: path.resolve("/empty-home") }, files))).toBeUndefined();
  });

  it("is undefined after `pulumi logout` (credentials without current), with no credentials, or with blank values", () => {
    expect(chosenBackend(probe({}))).toBeUndefined();
    expect(chosenBackend(probe({}, { [path.join(HOME, ".pulumi", "credentials.json")]: JSON.stringify({ accessTokens: {} }) }))).toBeUndefined();
    expect(chosenBackend(probe({ PULUMI_BACKEND_URL: "  " }, { [path.join(PROJECT, "Pulumi.yaml")]: "name: p\nruntime: nodejs\n" }))).toBeUndefined();
  });

  it("names a broken credentials.json instead of guessing", () => {
    expect(() => chosenBackend(probe({}, { [path.join(HOME, ".pulumi", "credentials.json")]: "{not json" }))).toThrow(/credentials\.json is not valid JSON/);
  });

  it("finds this repository's Pulumi.yaml without a backend, so a logged-out CLI falls back", () => {
    const repo = path.resolve(__dirname, "..", "..");
    const text = fs.readFileSync(path.join(repo, "Pulumi.yaml"), "utf8");
    expect(chosenBackend({ env: {}, projectDir: repo, homeDir: HOME, readText: (file) => (file === path.join(repo, "Pulumi.yaml") ? text : undefined) })).toBeUndefined();
  });
});

describe("the fallback: a file backend inside the project, passphrase secrets provider", () => {
  let project: string;
  beforeEach(() => {
    project = fs.mkdtempSync(path.join(os.tmpdir(), "stack-handling-"));
  });
  afterEach(() => fs.rmSync(project, { recursive: true, force: true }));

  const realProbe = (env: NodeJS.ProcessEnv): BackendProbe => ({
    env,
    projectDir: project,
    homeDir: path.join(project, "home"),
    readText: (file) => (fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined),
  });

  it("is used only when no backend was chosen, and then creates its folder and a passphrase once", () => {
    expect(backendFor(realProbe({ PULUMI_BACKEND_URL: "https://api.pulumi.com" }))).toEqual({ kind: "chosen", source: "PULUMI_BACKEND_URL" });
    expect(fs.existsSync(path.join(project, PROJECT_LOCAL_BACKEND_DIR))).toBe(false);

    const first = backendFor(realProbe({}));
    expect(first).toMatchObject({ kind: "file", dir: path.join(project, PROJECT_LOCAL_BACKEND_DIR) });
    const passphrase = (first as { passphrase: string }).passphrase;
    expect(passphrase.length).toBeGreaterThanOrEqual(32);
    expect(fs.readFileSync(path.join(project, PROJECT_LOCAL_BACKEND_DIR, PASSPHRASE_FILE), "utf8").trim()).toBe(passphrase);
    // The next run reuses it: a new passphrase would lock the stack's secrets away.
    expect(backendFor(realProbe({}))).toEqual(first);
    expect(projectPassphrase(path.join(project, "other"))).not.toBe(passphrase);
  });

  it("reaches the CLI only as PULUMI_BACKEND_URL (absolute file:// URL) and PULUMI_CONFIG_PASSPHRASE", () => {
    const backend = backendFor(realProbe({}));
    const env = backendEnv(backend);
    expect(Object.keys(env).sort()).toEqual(["PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE"]);
    expect(env.PULUMI_BACKEND_URL).toMatch(/^file:\/\//);
    expect(fileURLToPath(env.PULUMI_BACKEND_URL)).toBe(path.join(project, PROJECT_LOCAL_BACKEND_DIR));
    expect(backendEnv({ kind: "chosen", source: "PULUMI_BACKEND_URL" })).toEqual({});
    // The console line names the folder, never the passphrase.
    expect(describeBackend(backend)).toContain(path.join(project, PROJECT_LOCAL_BACKEND_DIR));
    expect(describeBackend(backend)).not.toContain(env.PULUMI_CONFIG_PASSPHRASE);
  });

  it("turns a relative folder into an absolute file URL", () => {
    expect(fileBackendUrl("relative/state", "linux")).toBe(`file://${path.resolve("relative/state").split(path.sep).join("/")}`);
    // Windows: file://C:/..., which Pulumi's CLI reads as the drive path (file:///C:/... it has misread).
    expect(fileBackendUrl("C:\\work\\proj\\.pulumi-local", "win32")).toBe("file://C:/work/proj/.pulumi-local");
  });

  it("gives a throwaway stack its own PULUMI_HOME that shares the user's plugins", () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-home-"));
    try {
      const userHome = path.join(root, "user-home");
      fs.mkdirSync(path.join(userHome, "plugins", "resource-docker-v4.0.0"), { recursive: true });
      const home = throwawayPulumiHome(path.join(root, "throwaway"), { PULUMI_HOME: userHome });
      expect(fs.readdirSync(path.join(home, "plugins"))).toEqual(["resource-docker-v4.0.0"]);
      fs.rmSync(home, { recursive: true, force: true });
      expect(fs.existsSync(path.join(userHome, "plugins", "resource-docker-v4.0.0"))).toBe(true);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it("is git-ignored, as are the live test's throwaway stack files", () => {
    const ignored = fs.readFileSync(path.join(__dirname, "..", "..", ".gitignore"), "utf8").split("\n");
    expect(ignored).toContain(`${PROJECT_LOCAL_BACKEND_DIR}/`);
    expect(ignored).toContain("Pulumi.live-*.yaml");
  });
});

describe("encryptionsalt: machine-local, never committed", () => {
  // `stack init --secrets-provider passphrase` writes a salt tied to one machine's passphrase into
  // Pulumi.<stack>.yaml; committed, it would make every other fresh clone fail with "incorrect passphrase".
  it.each(["Pulumi.dev.yaml", "Pulumi.prod.yaml"])("the committed %s has no encryptionsalt", (file) => {
    const committed = spawnSync("git", ["show", `HEAD:${file}`], { cwd: path.join(__dirname, "..", ".."), encoding: "utf8" });
    const text = committed.status === 0 ? committed.stdout : fs.readFileSync(path.join(__dirname, "..", "..", file), "utf8");
    expect(text).not.toMatch(/^encryptionsalt:/m);
  });
});
