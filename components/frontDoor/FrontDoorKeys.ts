import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { SCRAPE_KEY_ENV, apiKeyEnv } from "./caddyConfig";
import { GENERATED_CONSUMER, parseApiKeys } from "./config";

export interface FrontDoorKeysArgs {
  /** Consumers the image's config names (config.apiKeyConsumers). */
  consumers: string[];
  /** The apiKeys secret (a JSON map of consumer to key); none on a stack that sets no keys. */
  configuredKeys?: pulumi.Output<string>;
  /** Scrape mode: Prometheus reads the metrics through the door with a generated credential. */
  scrapeCredential: boolean;
}

/** Letters and digits only: keys travel in environment variables and HTTP headers. */
const generatedKey = (name: string, parent: pulumi.Resource) => new random.RandomPassword(name, { length: 40, special: false }, { parent });

/**
 * The front door's secrets: the consumers' keys (from apiKeys, or one generated for a local stack without
 * them) and the scrape credential, all Pulumi secrets. `environment` is what the serving container needs,
 * keyed by variable name; rotating one key changes only its value there, never the image.
 */
export class FrontDoorKeys extends pulumi.ComponentResource {
  /** Consumer name -> key; a secret. */
  readonly apiKeys: pulumi.Output<Record<string, string>>;
  /** The scrape credential Prometheus sends; a secret. */
  readonly scrapeKey?: pulumi.Output<string>;
  /** Variable name -> value for the serving container; a secret. */
  readonly environment: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: FrontDoorKeysArgs, opts?: pulumi.ComponentResourceOptions) {
    super("tfserving-platform:frontDoor:FrontDoorKeys", name, {}, opts);
    if (args.configuredKeys) {
      this.apiKeys = pulumi.secret(
        args.configuredKeys.apply((text) => {
          const parsed = parseApiKeys(text);
          // parseStackConfig refused a malformed map before any resource was registered.
          if ("problem" in parsed) throw new Error(parsed.problem);
          return parsed.keys;
        }),
      );
    } else if (args.consumers.includes(GENERATED_CONSUMER)) {
      this.apiKeys = pulumi.secret(generatedKey(`${name}-${GENERATED_CONSUMER}`, this).result.apply((key): Record<string, string> => ({ [GENERATED_CONSUMER]: key })));
    } else {
      this.apiKeys = pulumi.output<Record<string, string>>({});
    }
    this.scrapeKey = args.scrapeCredential ? pulumi.secret(generatedKey(`${name}-scrape`, this).result) : undefined;
    this.environment = pulumi.secret(
      pulumi.all([this.apiKeys, this.scrapeKey]).apply(([keys, scrapeKey]): Record<string, string> => ({
        ...Object.fromEntries(args.consumers.map((consumer) => [apiKeyEnv(consumer), keys[consumer]])),
        ...(scrapeKey === undefined ? {} : { [SCRAPE_KEY_ENV]: scrapeKey }),
      })),
    );
    this.registerOutputs({});
  }
}
