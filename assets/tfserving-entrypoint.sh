#!/bin/bash
# Starts TF Serving behind its front door (Caddy), plus a Prometheus agent in push mode, and supervises them.
# Railway injects PORT; elsewhere the image's REST_PORT applies. The front door listens on it; TF Serving's
# REST API (and its Prometheus endpoint) answers on UPSTREAM_REST_PORT, which nothing outside the container
# reaches. Tuning flags arrive as "$@" (the image's CMD), and a flag given twice resolves to the last one.
#
# This script stays PID 1 as a minimal supervisor: SIGTERM goes to every process; when any of them exits on
# its own, the others are stopped and the container exits non-zero, so the platform restarts it.
# METRICS_MODE=push adds the agent, which scrapes TF Serving and the door on loopback and remote-writes to
# the receiver. Only POSIX sh plus `wait -n` (bash; busybox ash too, whose `wait -n` however misses a child
# killed by a signal).
set -eu
fail() {
  echo "tfserving-entrypoint: $*" >&2
  exit 64
}
export PORT="${PORT:-${REST_PORT}}"
[ "${PORT}" != "${UPSTREAM_REST_PORT}" ] || fail "PORT=${PORT} is TF Serving's port behind the front door; set another PORT"
# Every key the door's config names must be set: an empty one would lock its consumer (or Prometheus) out.
for name in ${FRONT_DOOR_REQUIRED_ENV}; do
  eval "value=\${${name}:-}"
  [ -n "${value}" ] || fail "${name} is not set; the deploy sets it (a Railway variable, or the container's environment)"
done

set -- tensorflow_model_server \
  --port="${GRPC_PORT}" \
  --rest_api_port="${UPSTREAM_REST_PORT}" \
  --model_name="${MODEL_NAME}" \
  --model_base_path="${MODEL_BASE_PATH}/${MODEL_NAME}" \
  --monitoring_config_file="${MONITORING_CONFIG_FILE}" \
  "$@"
value=

push=0
if [ "${METRICS_MODE:-scrape}" = push ]; then
  push=1
  [ -n "${METRICS_RECEIVER_PASSWORD:-}" ] || fail "METRICS_RECEIVER_PASSWORD is not set; the deploy sets it (a Railway variable, or the container's environment)"
  # The password goes to a file only the agent reads, and out of the environment the others inherit.
  mkdir -p "${AGENT_DATA_DIR}"
  (umask 077 && printf '%s' "${METRICS_RECEIVER_PASSWORD}" > "${AGENT_PASSWORD_FILE}")
  unset METRICS_RECEIVER_PASSWORD
  # external_labels of the agent: Railway's replica and region, or a stable fallback (the container's hostname).
  export TFSERVING_REPLICA="${RAILWAY_REPLICA_ID:-${HOSTNAME:-local}}"
  export TFSERVING_REGION="${RAILWAY_REPLICA_REGION:-local}"
fi

stopping=0
pids=
stop_all() { kill -TERM ${pids} 2>/dev/null || true; }
# Trapped before anything starts: PID 1 without a handler ignores SIGTERM and would wait for SIGKILL.
trap 'stopping=1; stop_all' TERM INT

# Only the door sees the keys: TF Serving and the agent start without them.
(unset ${FRONT_DOOR_REQUIRED_ENV} && exec "$@") &
pids="$!"
if [ "${push}" = 1 ]; then
  # A short flush deadline: on SIGTERM the agent sends what it still holds, then exits within the
  # platform's grace period (Docker's default is 10s, Railway's reportedly 3s) instead of retrying an
  # unreachable receiver for 1m.
  (unset ${FRONT_DOOR_REQUIRED_ENV} && exec prometheus --agent \
    --config.file="${AGENT_CONFIG_FILE}" \
    --storage.remote.flush-deadline=2s \
    --storage.agent.path="${AGENT_DATA_DIR}/wal" \
    --web.listen-address="${AGENT_LISTEN_ADDRESS}") &
  pids="${pids} $!"
fi
caddy run --config "${FRONT_DOOR_CONFIG_FILE}" &
pids="${pids} $!"
# A stop that arrived while they started reached none of them.
[ "${stopping}" = 1 ] && stop_all
set +e
# As PID 1 this shell also inherits orphaned processes; `wait -n` may return for one of those (busybox
# does), so it only counts when one of ours is really gone.
all_running() {
  for pid in ${pids}; do kill -0 "${pid}" 2>/dev/null || return 1; done
}
while :; do
  wait -n
  status=$?
  [ "${stopping}" = 1 ] && break
  all_running || break
done
if [ "${stopping}" = 0 ]; then
  echo "tfserving-entrypoint: a process exited with status ${status}; stopping the others" >&2
  stop_all
fi
wait
[ "${stopping}" = 1 ] && exit 0
[ "${status}" = 0 ] && status=1
exit "${status}"
