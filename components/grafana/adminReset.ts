/**
 * Grafana applies GF_SECURITY_ADMIN_PASSWORD only when it creates its database. A database left in the
 * data volume by an earlier stack of the same name keeps that stack's password, and every Grafana
 * resource would then fail with 401. So the container starts through this script: on an existing
 * database it first resets the admin password to the one in the environment, then starts the server.
 */

/** The official image's entrypoint, which starts the server with the image's paths. */
export const GRAFANA_IMAGE_ENTRYPOINT = "/run.sh";

/**
 * The `sh -c` script of the container's entrypoint. The password reaches `grafana cli` on stdin
 * (printf is a shell builtin), so it is in no process's argv and not in the script, which
 * `docker inspect` shows. `grafana cli admin reset-admin-password` resets Grafana's first admin
 * (the user the database was created with). A fresh volume has no database yet: the server then
 * creates the admin from the environment itself. A failed reset is logged and the server starts
 * anyway, so Grafana stays reachable to look into it.
 */
export function adminResetEntrypoint(): string[] {
  const script = [
    'if [ -f "$GF_PATHS_DATA/grafana.db" ]; then',
    '  if printf %s "$GF_SECURITY_ADMIN_PASSWORD" | grafana cli --homepath "$GF_PATHS_HOME" --config "$GF_PATHS_CONFIG" admin reset-admin-password --password-from-stdin; then',
    '    echo "tfserving-platform: admin password set to the stack\'s on the existing database"',
    "  else",
    '    echo "tfserving-platform: could not reset the admin password on the existing database (see above); Grafana may refuse the stack\'s login" >&2',
    "  fi",
    "fi",
    `exec ${GRAFANA_IMAGE_ENTRYPOINT} "$@"`,
  ].join("\n");
  // "$0" of `sh -c` is the next argument; "$@" stays empty, as the image's CMD-less default is.
  return ["/bin/sh", "-c", script, "grafana-entrypoint"];
}
