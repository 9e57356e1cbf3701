import * as fs from "node:fs";
import { parse } from "yaml";
import { alertmanagerConfig, renderAlertmanagerConfig } from "../../components/monitoring/alertmanagerConfig";
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
    expect(result.status).toBe(0);
    const doc = parse(text);
    expect(doc.route.receiver).toBe("webhook");
    expect(doc.receivers).toEqual([{ name: "webhook", webhook_configs: [{ url: WEBHOOK, send_resolved: true }] }]);
    expect(doc.route.routes).toEqual([expect.objectContaining({ receiver: "webhook", matchers: ['alertname="Watchdog"'], repeat_interval: "5m" })]);
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
