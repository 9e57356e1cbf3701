import bcrypt from "bcryptjs";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import { stringify } from "yaml";

/**
 * Our Prometheus as the remote-write receiver of push mode: `--web.enable-remote-write-receiver` plus a
 * web config (`--web.config.file`) that requires basic auth, and TLS when a certificate is configured.
 * The web config guards every endpoint, so Grafana, the self-scrape and the health check log in too.
 */
export const RECEIVER_USER = "tfserving";

/** Files in the Prometheus container, beside prometheus.yml. */
export const RECEIVER_PATHS = {
  webConfig: "/etc/prometheus/web.yml",
  password: "/etc/prometheus/receiver.password",
  cert: "/etc/prometheus/receiver.crt",
  key: "/etc/prometheus/receiver.key",
  /** promtool's HTTP client config for the container health check. */
  healthcheck: "/etc/prometheus/healthcheck.yml",
} as const;

/** Prometheus' remote-write endpoint below its base URL. */
export const REMOTE_WRITE_PATH = "/api/v1/write";

/** Cost 10: Prometheus checks the hash on every request, and pushes arrive every few seconds per replica. */
const BCRYPT_COST = 10;

/**
 * A bcrypt hash whose salt is derived from the password itself, so every preview renders the same web
 * config and a no-op `pulumi up` stays a no-op. A per-user random salt defends many human passwords
 * against one precomputed table; this is one generated 32-character password, which no table covers.
 */
export function bcryptHash(password: string): string {
  if (password === "") throw new Error("the receiver password is empty");
  const saltBytes = createHash("sha256").update(`tfserving-platform receiver salt\0${password}`).digest().subarray(0, 16);
  return bcrypt.hashSync(password, `$2b$${BCRYPT_COST}$${bcrypt.encodeBase64(saltBytes, 16)}`);
}

export interface WebConfigInput {
  /** bcrypt hash of the receiver password (bcryptHash). */
  passwordHash: string;
  /** Serve https with the certificate and key at RECEIVER_PATHS. */
  tls: boolean;
}

/** The exporter-toolkit web config Prometheus reads with --web.config.file (`promtool check web-config`). */
export function webConfig(input: WebConfigInput): Record<string, unknown> {
  if (!/^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/.test(input.passwordHash)) throw new Error("the receiver password hash is not a bcrypt hash");
  return {
    ...(input.tls ? { tls_server_config: { cert_file: RECEIVER_PATHS.cert, key_file: RECEIVER_PATHS.key, min_version: "TLS12" } } : {}),
    basic_auth_users: { [RECEIVER_USER]: input.passwordHash },
  };
}

export function renderWebConfig(input: WebConfigInput): string {
  return stringify(webConfig(input), { lineWidth: 0 });
}

/**
 * The HTTP client config `promtool check ready --http.config.file` uses for the health check: the
 * receiver login from the password file, and no verification of the certificate's name on 127.0.0.1.
 */
export function renderHealthcheckHttpConfig(tls: boolean): string {
  return stringify(
    {
      basic_auth: { username: RECEIVER_USER, password_file: RECEIVER_PATHS.password },
      ...(tls ? { tls_config: { insecure_skip_verify: true } } : {}),
    },
    { lineWidth: 0 },
  );
}

/** Throws, naming the config key, unless the text holds a PEM certificate. */
export function checkCertificatePem(pem: string, key = "receiverTlsCertFile"): void {
  if (!/-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/.test(pem)) {
    throw new Error(`tfserving-platform:${key}: the file holds no PEM certificate (-----BEGIN CERTIFICATE-----); point it at the receiver's certificate`);
  }
}

/** The receiver's certificate (receiverTlsCertFile), read at preview time so a wrong path fails before any resource. */
export function readCertificateFile(file: string): string {
  let pem: string;
  try {
    pem = fs.readFileSync(file, "utf8");
  } catch (error) {
    throw new Error(`tfserving-platform:receiverTlsCertFile: cannot read ${file} (${(error as NodeJS.ErrnoException).code}); point it at the receiver's PEM certificate`);
  }
  checkCertificatePem(pem);
  return pem;
}
