import * as path from "node:path";
import { DEFAULT_IMAGES, imageRelease } from "../../components/config/versions";

/** Git-ignored folder of tools built for the tests, one subfolder per tool and release. */
export const TOOLS_DIR = path.resolve(__dirname, "..", "..", ".tools");

/** The command that builds every monitoring tool the tests run; printed whenever one is missing. */
export const BUILD_COMMAND = "npm run build:tools";

export interface MonitoringToolSet {
  /** The default image these binaries stand for in tests. */
  image: string;
  /** Release of the image, e.g. 3.13.5; the binaries report it in `--version`. */
  release: string;
  goModule: string;
  goModuleVersion: string;
  /** Folder under TOOLS_DIR, keyed by release so a version bump builds afresh. */
  folder: string;
  /** Main packages of the module, each built into a binary named after its folder. */
  packages: string[];
  /** Files `go:embed` needs that the module's zip lacks (built web UIs, unused by the tests). */
  embedPlaceholders: string[];
  /** Linker flags that stamp the release into the binaries (each project reads its version from its own variable). */
  ldflags: string;
  /** A file of the module that states its release, checked against the image's; absent where the module version is the release. */
  releaseFile?: string;
}

/** Prometheus 3.x publishes Go module versions v0.3MM.P: 3.13.5 is v0.313.5. */
export function prometheusModuleVersion(release: string): string {
  const match = /^3\.(\d+)\.(\d+)$/.exec(release);
  if (!match) throw new Error(`Prometheus release ${release} is not 3.x.y; its Go module version cannot be derived`);
  return `v0.3${match[1].padStart(2, "0")}.${match[2]}`;
}

/** Prometheus and Alertmanager: the release in prometheus/common's version variables, checked against their VERSION file. */
function prometheusToolSet(image: string, goModule: string, goModuleVersion: (release: string) => string, packages: string[], embedPlaceholders: string[] = []): MonitoringToolSet {
  const release = imageRelease(image);
  const name = goModule.slice(goModule.lastIndexOf("/") + 1);
  return {
    image,
    release,
    goModule,
    goModuleVersion: goModuleVersion(release),
    folder: `${name}-${release}`,
    packages,
    embedPlaceholders,
    ldflags: `-s -w -X github.com/prometheus/common/version.Version=${release} -X github.com/prometheus/common/version.BuildUser=tfserving-platform`,
    releaseFile: "VERSION",
  };
}

/**
 * Caddy: built inside its own module (not as a dependency), so it cannot read its version from the build
 * info and reports CustomVersion instead; the Go module version is the release.
 */
function caddyToolSet(image: string): MonitoringToolSet {
  const release = imageRelease(image);
  return {
    image,
    release,
    goModule: "github.com/caddyserver/caddy/v2",
    goModuleVersion: `v${release}`,
    folder: `caddy-${release}`,
    packages: ["./cmd/caddy"],
    embedPlaceholders: [],
    ldflags: `-s -w -X github.com/caddyserver/caddy/v2.CustomVersion=v${release}`,
  };
}

export const MONITORING_TOOL_SETS = {
  prometheus: prometheusToolSet(DEFAULT_IMAGES.prometheus, "github.com/prometheus/prometheus", prometheusModuleVersion, ["./cmd/prometheus", "./cmd/promtool"]),
  alertmanager: prometheusToolSet(DEFAULT_IMAGES.alertmanager, "github.com/prometheus/alertmanager", (release) => `v${release}`, ["./cmd/alertmanager", "./cmd/amtool"], [
    "ui/app/dist/elm/index.html",
    "ui/app/dist/mantine/index.html",
  ]),
  caddy: caddyToolSet(DEFAULT_IMAGES.caddy),
} as const;

export type MonitoringTool = "prometheus" | "promtool" | "alertmanager" | "amtool" | "caddy";

/** Which tool set builds each binary. */
export const TOOL_SET_OF: Record<MonitoringTool, keyof typeof MONITORING_TOOL_SETS> = {
  prometheus: "prometheus",
  promtool: "prometheus",
  alertmanager: "alertmanager",
  amtool: "alertmanager",
  caddy: "caddy",
};

/** Where a binary lives once built. */
export function toolPath(tool: MonitoringTool, toolsDir = TOOLS_DIR): string {
  const set = MONITORING_TOOL_SETS[TOOL_SET_OF[tool]];
  return path.join(toolsDir, set.folder, process.platform === "win32" ? `${tool}.exe` : tool);
}

/** The release a binary reports in `--version` output, e.g. "prometheus, version 3.13.5 (branch: ...)" or Caddy's "v2.11.9". */
export function reportedRelease(versionOutput: string): string | undefined {
  const match = /\bversion (\d+\.\d+\.\d+)|^v(\d+\.\d+\.\d+)\b/m.exec(versionOutput);
  return match?.[1] ?? match?.[2];
}
