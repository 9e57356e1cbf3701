import { renderWebConfig, bcryptHash, RECEIVER_PATHS } from "../components/monitoring/receiverConfig";
import { prometheusWebSecurity, publicPortProblems, receiverAuthProblems } from "../policy/rules";

/** A Prometheus container as the program registers it in push mode, with the given web config text. */
function receiver(webConfigText: string | undefined, ports: { internal: number; external: number; ip: string }[]) {
  return {
    command: ["--config.file=/etc/prometheus/prometheus.yml", `--web.config.file=${RECEIVER_PATHS.webConfig}`, "--web.enable-remote-write-receiver"],
    uploads: webConfigText === undefined ? [] : [{ file: RECEIVER_PATHS.webConfig, content: webConfigText }],
    ports,
  };
}

const hash = bcryptHash("pw");
const published = [
  { internal: 9090, external: 9090, ip: "127.0.0.1" },
  { internal: 9090, external: 9443, ip: "0.0.0.0" },
];

describe("policy: the push-mode receiver", () => {
  it("reads what the uploaded web config enforces", () => {
    expect(prometheusWebSecurity(receiver(renderWebConfig({ passwordHash: hash, tls: true }), []))).toEqual({ tls: true, auth: true });
    expect(prometheusWebSecurity(receiver(renderWebConfig({ passwordHash: hash, tls: false }), []))).toEqual({ tls: false, auth: true });
    expect(prometheusWebSecurity(receiver(undefined, []))).toEqual({ tls: false, auth: false });
    expect(prometheusWebSecurity({ ports: [] })).toEqual({ tls: false, auth: false });
  });

  it("may publish a host port beyond loopback only with TLS and basic auth", () => {
    expect(publicPortProblems(receiver(renderWebConfig({ passwordHash: hash, tls: true }), published), false)).toEqual([]);
    expect(publicPortProblems(receiver(renderWebConfig({ passwordHash: hash, tls: false }), published), false)).toEqual([
      expect.stringMatching(/publishes container port 9090 on 0\.0\.0\.0:9443/),
    ]);
    expect(publicPortProblems(receiver("tls_server_config:\n  cert_file: a\n  key_file: b\n", published), false)).toHaveLength(1);
  });

  it("must require basic auth whenever it accepts remote writes", () => {
    expect(receiverAuthProblems(receiver(renderWebConfig({ passwordHash: hash, tls: false }), []))).toEqual([]);
    expect(receiverAuthProblems(receiver(undefined, []))).toEqual([expect.stringMatching(/without basic auth/)]);
    expect(receiverAuthProblems(receiver("basic_auth_users: {}\n", []))).toHaveLength(1);
    // A Prometheus that is no receiver is not concerned.
    expect(receiverAuthProblems({ command: ["--config.file=/etc/prometheus/prometheus.yml"] })).toEqual([]);
  });
});
