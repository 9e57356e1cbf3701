import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { changedOps, checkChangedExactly, plannedSteps, resourceKey } from "../../scripts/live/previewChanges";
import { Phases, markdownReport } from "../../scripts/live/report";
import { bridgeGateway, receiverAddress, startWebhookReceiver } from "../../scripts/live/webhookReceiver";

const ROOT = path.resolve(__dirname, "..", "..");
const urn = (type: string, name: string) => `urn:pulumi:live-1::tfserving-platform::${type}::${name}`;
const pre = (op: string, resourceUrn: string): EngineEvent =>
  ({ sequence: 0, timestamp: 0, resourcePreEvent: { metadata: { op, urn: resourceUrn, type: "", provider: "" } } }) as unknown as EngineEvent;

const IMAGE = "docker:index/image:Image::tfserving";
const SERVING = "docker:index/container:Container::serving";
const READY = "command:local:Command::serving-ready";
const expected = { required: [IMAGE, SERVING], dependents: [READY] };

describe("one-byte model change: the preview changes exactly the image and the serving container (and dependents)", () => {
  const events = [
    pre("same", urn("pulumi:pulumi:Stack", "tfserving-platform-live-1")),
    pre("replace", urn("tfserving-platform:serving:TfServingImage$docker:index/image:Image", "tfserving")),
    pre("same", urn("docker:index/network:Network", "stack-network")),
    pre("delete-replaced", urn("tfserving-platform:serving:LocalServing$docker:index/container:Container", "serving")),
    pre("replace", urn("tfserving-platform:serving:LocalServing$docker:index/container:Container", "serving")),
    pre("replace", urn("tfserving-platform:serving:LocalServing$command:local:Command", "serving-ready")),
    pre("same", urn("tfserving-platform:monitoring:Prometheus$docker:index/container:Container", "prometheus")),
    { sequence: 1, timestamp: 0, diagnosticEvent: { message: "x", color: "never", severity: "info" } } as unknown as EngineEvent,
  ];

  it("reads the planned steps from resourcePreEvents and keys them by type and name, without the parent chain", () => {
    expect(plannedSteps(events)).toHaveLength(7);
    expect(resourceKey(urn("tfserving-platform:serving:TfServingImage$docker:index/image:Image", "tfserving"))).toBe(IMAGE);
  });

  it("passes when exactly those change", () => {
    expect(checkChangedExactly(plannedSteps(events), expected)).toBe(`${IMAGE} (replace), ${SERVING} (replace), ${READY} (replace)`);
  });

  it("fails naming an unchanged image, or a resource the model does not reach", () => {
    const imageSame = events.map((event) => (event.resourcePreEvent?.metadata.urn.endsWith("Image::tfserving") ? pre("same", event.resourcePreEvent.metadata.urn) : event));
    expect(() => checkChangedExactly(plannedSteps(imageSame), expected)).toThrow(`not changed: ${IMAGE}`);
    const grafanaToo = [...events, pre("update", urn("tfserving-platform:grafana:Grafana$grafana:oss/dashboard:Dashboard", "grafana-dashboard"))];
    expect(() => checkChangedExactly(plannedSteps(grafanaToo), expected)).toThrow(/changed although the model does not reach them: grafana:oss\/dashboard:Dashboard::grafana-dashboard \(update\)/);
  });

  it("changedOps is empty only for a summary of `same`", () => {
    expect(changedOps({ same: 17 })).toEqual([]);
    expect(changedOps({ same: 16, update: 1 })).toEqual(["update"]);
    expect(changedOps({ same: 16, replace: 0 })).toEqual([]);
    expect(changedOps(undefined)).toEqual([]);
  });
});

describe("the Alertmanager webhook receiver", () => {
  it("listens on Docker's bridge gateway on a Linux engine and on loopback with host.docker.internal on Docker Desktop", () => {
    expect(receiverAddress("Ubuntu 24.04.1 LTS", "172.17.0.1")).toEqual({ listenHost: "172.17.0.1", urlHost: "172.17.0.1" });
    expect(receiverAddress("Docker Desktop", undefined)).toEqual({ listenHost: "127.0.0.1", urlHost: "host.docker.internal" });
    expect(() => receiverAddress("Fedora Linux 40", undefined)).toThrow(/cannot find the address of Docker's default bridge.*Fedora Linux 40/);
  });

  it("reads the bridge gateway from docker network inspect, or derives it from the subnet when the engine leaves it out", () => {
    const inspect = (config: object[]) => JSON.stringify([{ Name: "bridge", IPAM: { Driver: "default", Config: config } }]);
    expect(bridgeGateway(inspect([{ Subnet: "172.17.0.0/16", Gateway: "172.17.0.1" }]))).toBe("172.17.0.1");
    expect(bridgeGateway(inspect([{ Subnet: "fd00::/64" }, { Subnet: "10.200.0.0/24" }]))).toBe("10.200.0.1");
    expect(bridgeGateway(inspect([]))).toBeUndefined();
  });

  it("records the alerts of Alertmanager's webhook payloads posted to its random path only", async () => {
    const receiver = await startWebhookReceiver({ listenHost: "127.0.0.1", urlHost: "127.0.0.1" });
    try {
      expect(receiver.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/alerts\/[0-9a-f]{24}$/);
      const payload = { version: "4", status: "firing", receiver: "webhook", alerts: [{ status: "firing", labels: { alertname: "Watchdog", severity: "none" } }] };
      const post = (url: string, body: string) => fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body });
      expect((await post(receiver.url, JSON.stringify(payload))).status).toBe(200);
      expect((await post(new URL("/alerts/guess", receiver.url).href, JSON.stringify(payload))).status).toBe(404);
      expect((await post(receiver.url, "{not json")).status).toBe(400);
      expect(receiver.received()).toEqual([{ alertname: "Watchdog", status: "firing" }]);
    } finally {
      await receiver.close();
    }
  });
});

describe("the report", () => {
  it("times each phase, keeps going after a failed check, stops after a failed critical phase, and renders Markdown", async () => {
    let clock = 0;
    const phases = new Phases(() => (clock += 1500));
    await phases.run("pulumi up", async () => "3 created");
    await phases.run("Grafana login", async () => {
      throw new Error("login as admin failed: HTTP 401 | Unauthorized");
    });
    await expect(phases.run("destroy", async () => Promise.reject(new Error("locked")), { critical: true })).rejects.toThrow("locked");
    expect(phases.failed.map((result) => result.name)).toEqual(["Grafana login", "destroy"]);
    expect(markdownReport("Live test", phases.results)).toBe(
      [
        "# Live test",
        "",
        "| phase | result | time | detail |",
        "| --- | --- | ---: | --- |",
        "| pulumi up | ok | 1.5 s | 3 created |",
        "| Grafana login | FAILED | 1.5 s | login as admin failed: HTTP 401 \\| Unauthorized |",
        "| destroy | FAILED | 1.5 s | locked |",
        "",
        "2 of 3 phases FAILED: Grafana login, destroy.",
        "",
      ].join("\n"),
    );
  });
});

describe("an interrupt (Ctrl+C)", () => {
  it("abandons the running phase, starts no further check, and still runs the cleanup phases", async () => {
    const interrupt = new AbortController();
    const phases = new Phases(undefined, interrupt.signal);
    const hanging = phases.run("Watchdog reaches the webhook", () => new Promise<string>(() => undefined));
    interrupt.abort();
    await expect(hanging).rejects.toThrow("interrupted");
    let ran = false;
    await expect(
      phases.run("Grafana login", async () => {
        ran = true;
        return "";
      }),
    ).rejects.toThrow("interrupted");
    expect(ran).toBe(false);
    await expect(phases.run("destroy", async () => "destroyed live-1", { cleanup: true })).resolves.toBe("destroyed live-1");
    expect(phases.results.map((result) => `${result.name}: ${result.ok ? "ok" : result.detail}`)).toEqual([
      "Watchdog reaches the webhook: interrupted",
      "Grafana login: interrupted",
      "destroy: ok",
    ]);
  });
});

describe("npm run test:live where the engine is missing", () => {
  it("stops at once with one line naming the Pulumi CLI, exit 1, and deploys nothing", () => {
    const result = spawnSync(process.execPath, [require.resolve("ts-node/dist/bin.js"), "--transpile-only", "scripts/test-live.ts"], {
      cwd: ROOT,
      encoding: "utf8",
      env: { PATH: path.dirname(process.execPath), HOME: os.tmpdir() },
      timeout: 60_000,
    });
    expect(result.status).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr.trim().split("\n")).toEqual([expect.stringMatching(/^npm run test:live needs the Pulumi CLI \(https:\/\/www\.pulumi\.com\/docs\/install\/\)/)]);
    expect(fs.readdirSync(ROOT).filter((name) => /^Pulumi\.live-/.test(name))).toEqual([]);
  });

  it("is its own npm script, not part of npm test", () => {
    const { scripts } = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
    expect(scripts["test:live"]).toBe("ts-node --transpile-only scripts/test-live.ts");
    expect(scripts.test).not.toMatch(/live/);
  });
});
