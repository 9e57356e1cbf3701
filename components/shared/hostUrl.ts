/**
 * The URL host that reaches a port published on bindAddress from the machine running `pulumi up`:
 * a bind-all address is reached through loopback; IPv6 literals need brackets in a URL.
 */
export function hostForUrl(bindAddress: string): string {
  if (bindAddress === "0.0.0.0") return "127.0.0.1";
  if (bindAddress === "::") return "[::1]";
  return bindAddress.includes(":") ? `[${bindAddress}]` : bindAddress;
}
