import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { DEFAULT_IMAGES, imageRelease } from "../components/config/versions";
import { MONITORING_TOOL_SETS, MonitoringTool, TOOL_SET_OF, prometheusModuleVersion, reportedRelease } from "../scripts/tools/monitoringTools";
import { monitoringTool } from "./support/monitoringTools";
import { PROJECT_DIR } from "./support/program";

const majorMinor = (release: string) => release.split(".").slice(0, 2).join(".");

describe("the monitoring binaries the tests run stand for the default images", () => {
  it.each(Object.keys(TOOL_SET_OF) as MonitoringTool[])("%s reports the major.minor of its image's tag", (tool) => {
    const { image } = MONITORING_TOOL_SETS[TOOL_SET_OF[tool]];
    const probe = spawnSync(monitoringTool(tool), ["--version"], { encoding: "utf8" });
    expect(probe.status).toBe(0);
    const reported = reportedRelease(`${probe.stdout}${probe.stderr}`);
    expect(reported).toBeDefined();
    expect(majorMinor(reported!)).toBe(majorMinor(imageRelease(image)));
  });

  it("a missing binary fails with the command that builds it", () => {
    expect(() => monitoringTool("promtool", path.join(PROJECT_DIR, "no-tools-here"))).toThrow(/promtool 3\.\d+\.\d+ .*is not built.*`npm run build:tools`/);
  });

  it("derives Prometheus 3's Go module version from the release", () => {
    expect(prometheusModuleVersion("3.13.5")).toBe("v0.313.5");
    expect(prometheusModuleVersion("3.0.1")).toBe("v0.300.1");
    expect(() => prometheusModuleVersion("2.53.4")).toThrow(/not 3\.x\.y/);
    expect(MONITORING_TOOL_SETS.prometheus.goModuleVersion).toBe(prometheusModuleVersion(imageRelease(DEFAULT_IMAGES.prometheus)));
    expect(MONITORING_TOOL_SETS.alertmanager.goModuleVersion).toBe(`v${imageRelease(DEFAULT_IMAGES.alertmanager)}`);
  });
});

interface CustomManager {
  customType: string;
  managerFilePatterns: string[];
  matchStrings: string[];
  datasourceTemplate: string;
}

/** A Renovate file pattern: `/regex/` is a regular expression, anything else a glob (not used here). */
function filePattern(pattern: string): RegExp {
  const regex = /^\/(.*)\/$/.exec(pattern);
  if (!regex) throw new Error(`renovate.json: use /regex/ file patterns, got ${pattern}`);
  return new RegExp(regex[1]);
}

/** What Renovate's regex managers extract from the project's files, as `file: depName:currentValue`. */
function renovateExtracts(): string[] {
  const config = JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, "renovate.json"), "utf8")) as { customManagers: CustomManager[] };
  const files = ["components/config/versions.ts", "package.json", "README.md"];
  return config.customManagers.flatMap((manager) => {
    expect(manager).toMatchObject({ customType: "regex", datasourceTemplate: "docker" });
    return files
      .filter((file) => manager.managerFilePatterns.some((pattern) => filePattern(pattern).test(file)))
      .flatMap((file) => {
        const text = fs.readFileSync(path.join(PROJECT_DIR, file), "utf8");
        return manager.matchStrings.flatMap((source) =>
          [...text.matchAll(new RegExp(source, "g"))].map((match) => `${file}: ${match.groups!.depName}:${match.groups!.currentValue}`),
        );
      });
  });
}

describe("renovate.json keeps every default image current", () => {
  const extracts = renovateExtracts();
  const images = Object.values(DEFAULT_IMAGES);

  it("finds exactly the default images in the versions module, so a new image cannot escape updates", () => {
    expect(extracts.filter((entry) => entry.startsWith("components/config/versions.ts: ")).sort()).toEqual(
      images.map((image) => `components/config/versions.ts: ${image}`).sort(),
    );
  });

  it("finds every default image in the README, and no other image tag there", () => {
    const inReadme = new Set(extracts.filter((entry) => entry.startsWith("README.md: ")));
    expect([...inReadme].sort()).toEqual(images.map((image) => `README.md: ${image}`).sort());
  });
});

describe("the demo model's TensorFlow matches the TF Serving image", () => {
  it("pins tensorflow-cpu to the major.minor of the default tensorflow/serving tag, so the export loads in that server", () => {
    const requirements = fs.readFileSync(path.join(PROJECT_DIR, "model", "requirements.txt"), "utf8");
    const pinned = /^tensorflow-cpu==(\d+\.\d+\.\d+)\s*$/m.exec(requirements)?.[1];
    expect(pinned).toBeDefined();
    expect(majorMinor(pinned!)).toBe(majorMinor(imageRelease(DEFAULT_IMAGES.tfServing)));
  });
});
