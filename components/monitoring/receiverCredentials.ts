import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { bcryptHash } from "./receiverConfig";

/**
 * The remote-write receiver's password (metricsMode push): generated once and kept in state as a secret.
 * Agents send it, our Prometheus checks it against the bcrypt hash in its web config, Grafana logs in with it.
 */
export class ReceiverCredentials extends pulumi.ComponentResource {
  readonly generated: random.RandomPassword;
  /** A Pulumi secret. */
  readonly password: pulumi.Output<string>;
  /** bcrypt hash of the password, the same on every run (see bcryptHash); secret as well. */
  readonly passwordHash: pulumi.Output<string>;

  constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
    super("tfserving-platform:monitoring:ReceiverCredentials", name, {}, opts);
    // Letters and digits only: it travels in environment variables and HTTP basic auth.
    this.generated = new random.RandomPassword(`${name}-password`, { length: 32, special: false }, { parent: this });
    this.password = pulumi.secret(this.generated.result);
    this.passwordHash = this.password.apply(bcryptHash);
    this.registerOutputs({});
  }
}
