/**
 * Builds the prometheus, promtool, alertmanager, amtool and caddy binaries the tests run, from the Go modules
 * of the default images' releases (components/config/versions.ts), into .tools/<module>-<release>/.
 * A folder whose binaries already report their release is reused, so running this again is cheap.
 * Needs Go; a Go older than the modules ask for fetches the newer toolchain itself (GOTOOLCHAIN=auto).
 *
 * Usage: npm run build:tools
 */
import { SpawnSyncOptions, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { MONITORING_TOOL_SETS, MonitoringToolSet, TOOLS_DIR, reportedRelease } from "./tools/monitoringTools";

function run(command: string, args: string[], options: SpawnSyncOptions = {}): string {
  const result = spawnSync(command, args, { encoding: "utf8", maxBuffer: 64 << 20, ...options });
  if (result.error) throw new Error(`${command} ${args.join(" ")}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} exited with ${result.status}:\n${result.stdout ?? ""}${result.stderr ?? ""}`);
  return String(result.stdout ?? "");
}

const binaryName = (pkg: string) => path.basename(pkg) + (process.platform === "win32" ? ".exe" : "");

/** True when every binary of the set is in place and reports the set's release. */
function isBuilt(set: MonitoringToolSet, folder: string): boolean {
  return set.packages.every((pkg) => {
    const binary = path.join(folder, binaryName(pkg));
    if (!fs.existsSync(binary)) return false;
    const probe = spawnSync(binary, ["--version"], { encoding: "utf8" });
    return probe.status === 0 && reportedRelease(`${probe.stdout}${probe.stderr}`) === set.release;
  });
}

/** The module's source folder in the Go module cache, downloaded if needed. */
function downloadModule(set: MonitoringToolSet): string {
  const info = JSON.parse(run("go", ["mod", "download", "-json", `${set.goModule}@${set.goModuleVersion}`], { cwd: os.tmpdir() })) as { Dir?: string; Error?: string };
  if (!info.Dir) throw new Error(`go mod download ${set.goModule}@${set.goModuleVersion}: ${info.Error ?? "no source folder"}`);
  if (!set.releaseFile) return info.Dir;
  // The module's own release file must name the image's release: a wrong module version cannot pass as the right one.
  const declared = fs.readFileSync(path.join(info.Dir, set.releaseFile), "utf8").trim();
  if (declared !== set.release) throw new Error(`${set.goModule}@${set.goModuleVersion} is release ${declared}, not ${set.release} (${set.image})`);
  return info.Dir;
}

function makeFoldersWritable(folder: string): void {
  fs.chmodSync(folder, 0o755);
  for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
    if (entry.isDirectory()) makeFoldersWritable(path.join(folder, entry.name));
  }
}

/**
 * A writable copy of the module source (the module cache is read-only, and go build refuses overlays
 * into it) with empty stand-ins for the embedded files its zip lacks.
 */
function writableSource(set: MonitoringToolSet, moduleDir: string, scratch: string): string {
  const source = path.join(scratch, "src");
  fs.cpSync(moduleDir, source, { recursive: true });
  makeFoldersWritable(source);
  for (const file of set.embedPlaceholders) {
    fs.mkdirSync(path.dirname(path.join(source, file)), { recursive: true });
    fs.writeFileSync(path.join(source, file), "");
  }
  return source;
}

function build(set: MonitoringToolSet): void {
  const folder = path.join(TOOLS_DIR, set.folder);
  if (isBuilt(set, folder)) {
    console.log(`${set.folder}: up to date in ${folder}`);
    return;
  }
  const started = Date.now();
  const moduleDir = downloadModule(set);
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), `${set.folder}-`));
  // Built beside the final folder and renamed into place, so an interrupted build never looks complete.
  const staging = `${folder}.partial`;
  try {
    fs.rmSync(staging, { recursive: true, force: true });
    fs.mkdirSync(staging, { recursive: true });
    console.log(`${set.folder}: building ${set.packages.join(", ")} from ${set.goModule}@${set.goModuleVersion}`);
    // GOWORK=off: the module ships a go.work naming folders its zip leaves out.
    run("go", ["build", "-trimpath", `-ldflags=${set.ldflags}`, "-o", staging + path.sep, ...set.packages], {
      cwd: writableSource(set, moduleDir, scratch),
      env: { ...process.env, GOWORK: "off", CGO_ENABLED: "0", GOFLAGS: "-mod=readonly -buildvcs=false" },
      stdio: ["ignore", "inherit", "inherit"],
    });
    if (!isBuilt(set, staging)) throw new Error(`${set.folder}: the built binaries do not report release ${set.release}`);
    fs.rmSync(folder, { recursive: true, force: true });
    fs.renameSync(staging, folder);
    console.log(`${set.folder}: built in ${Math.round((Date.now() - started) / 1000)} s into ${folder}`);
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

try {
  for (const set of Object.values(MONITORING_TOOL_SETS)) build(set);
} catch (error) {
  console.error((error as Error).message);
  process.exitCode = 1;
}
