import { stringify } from "yaml";
import { isHttpUrl } from "../config/stackConfig";
import { TRAFFIC_ALERTS } from "./rules";

export const ALERTMANAGER_PATHS = {
  config: "/etc/alertmanager/alertmanager.yml",
  data: "/alertmanager",
} as const;
export const ALERTMANAGER_PORT = 9093;

export interface AlertmanagerConfigInput {
  /** A secret: callers keep the rendered text inside a Pulumi secret. */
  webhookUrl: string;
  /** How often the always-firing Watchdog is re-sent, so the receiver can page when it stops. */
  watchdogRepeatInterval?: string;
}

const RECEIVER = "webhook";

/**
 * alertmanager.yml as an object: every alert goes to the one webhook, except that while
 * TFServingTargetDown fires, the traffic alerts of the same job (which then only see missing data)
 * are inhibited, so an outage pages once.
 */
export function alertmanagerConfig(input: AlertmanagerConfigInput): Record<string, unknown> {
  // The value is a secret, so the message describes it without echoing it.
  if (!isHttpUrl(input.webhookUrl)) {
    throw new Error(
      "tfserving-platform:alertmanagerWebhookUrl: must be an http(s) URL; " +
        "run `pulumi config set --secret tfserving-platform:alertmanagerWebhookUrl https://<receiver>/<path>`",
    );
  }
  return {
    route: {
      receiver: RECEIVER,
      group_by: ["alertname"],
      group_wait: "30s",
      group_interval: "5m",
      repeat_interval: "4h",
      routes: [{ receiver: RECEIVER, matchers: ['alertname="Watchdog"'], repeat_interval: input.watchdogRepeatInterval ?? "5m" }],
    },
    receivers: [{ name: RECEIVER, webhook_configs: [{ url: input.webhookUrl, send_resolved: true }] }],
    inhibit_rules: [
      {
        source_matchers: ['alertname="TFServingTargetDown"'],
        target_matchers: [`alertname=~"${TRAFFIC_ALERTS.join("|")}"`],
        equal: ["job"],
      },
    ],
  };
}

export function renderAlertmanagerConfig(input: AlertmanagerConfigInput): string {
  return stringify(alertmanagerConfig(input), { lineWidth: 0 });
}
