import * as fs from "node:fs";
import { parse } from "yaml";
import { parseStackConfig } from "../../components/config/stackConfig";
import { alertmanagerConfig, renderAlertmanagerConfig } from "../../components/monitoring/alertmanagerConfig";
import { AlertingRule, TRAFFIC_ALERTS, ruleGroups, rulesInput } from "../../components/monitoring/rules";
import { amtool, tempDir, writeFile } from "../support/promtool";

const WEBHOOK = "https://hooks.example.invalid/alerts/secret-token";

describe("alertmanager.yml renderer", () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir("alertmanager-config");
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("routes every alert, resolved ones too, to the webhook and passes amtool check-config", () => {
    const text = renderAlertmanagerConfig({ webhookUrl: WEBHOOK });
    const result = amtool("check-config", writeFile(dir, "alertmanager.yml", text));
    expect(result.output).toContain("SUCCESS");
    expect(result.output).toContain("1 inhibit rules");
    expect(result.status).toBe(0);
    const doc = parse(text);
    expect(doc.route.receiver).toBe("webhook");
    expect(doc.receivers).toEqual([{ name: "webhook", webhook_configs: [{ url: WEBHOOK, send_resolved: true }] }]);
    expect(doc.route.routes).toEqual([expect.objectContaining({ receiver: "webhook", matchers: ['alertname="Watchdog"'], repeat_interval: "5m" })]);
  });

  it("inhibits every traffic alert of a job while TFServingTargetDown fires for it (delivery is proven end to end)", () => {
    const doc = parse(renderAlertmanagerConfig({ webhookUrl: WEBHOOK }));
    expect(doc.inhibit_rules).toEqual([
      {
        source_matchers: ['alertname="TFServingTargetDown"'],
        target_matchers: [
          'alertname=~"TFServingLowTraffic|TFServingTrafficSpike|TFServingHighErrorRate|TFServingHighLatencyP95|TFServingCounterResets|TFServingModelLoadFailed|TFServingEdgeServerErrors|TFServingAvailabilityBudgetBurn|TFServingLatencyBudgetBurn"',
        ],
        equal: ["job", "replica"],
      },
    ]);
    // Every alert but the heartbeat and the inhibitor itself is a traffic alert, and each carries the `job` the rule compares.
    const groups = ruleGroups(rulesInput(parseStackConfig({ stack: "dev", projectDir: "/p", values: { modelDir: "m" } })));
    const rules = [groups.alerting, ...groups.slo].flatMap((group) => group.rules.filter((rule): rule is AlertingRule => "alert" in rule));
    const traffic = rules.filter((rule) => rule.alert !== "Watchdog" && rule.alert !== "TFServingTargetDown");
    // The budget-burn alerts are two rules each (page and ticket).
    expect([...new Set(traffic.map((rule) => rule.alert))].sort()).toEqual([...TRAFFIC_ALERTS].sort());
    for (const rule of traffic) expect(rule.labels.job).toBe("tf-serving-local");
  });

  it("amtool rejects an inhibit rule with an invalid matcher, so the check above covers inhibit_rules", () => {
    const text = renderAlertmanagerConfig({ webhookUrl: WEBHOOK }).replace('alertname="TFServingTargetDown"', 'alertname=="TFServingTargetDown"');
    const result = amtool("check-config", writeFile(dir, "alertmanager.yml", text));
    expect(result.status).not.toBe(0);
  });

  it("amtool rejects a route to an undefined receiver, so the check above can fail", () => {
    const text = renderAlertmanagerConfig({ webhookUrl: WEBHOOK }).replace("receiver: webhook", "receiver: nowhere");
    expect(amtool("check-config", writeFile(dir, "alertmanager.yml", text)).status).not.toBe(0);
  });

  it.each(["not a url", "ftp://hooks.example.invalid/secret-token", ""])("rejects %j without echoing the secret", (webhookUrl) => {
    let message = "";
    try {
      alertmanagerConfig({ webhookUrl });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^tfserving-platform:alertmanagerWebhookUrl: must be an http\(s\) URL; run `pulumi config set --secret/);
    if (webhookUrl) expect(message).not.toContain(webhookUrl);
  });
});
