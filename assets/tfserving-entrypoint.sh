#!/bin/bash
# Starts TF Serving with its Prometheus endpoint on the REST port.
# Railway injects PORT; elsewhere the image's REST_PORT applies. Tuning flags arrive as "$@"
# (the image's CMD), and a flag given twice resolves to the last one.
#
# METRICS_MODE=scrape (no agent in the image): `exec` makes tensorflow_model_server PID 1, so SIGTERM
# from Docker or Railway reaches it.
# METRICS_MODE=push: this script stays PID 1 as a minimal supervisor of tensorflow_model_server and a
# Prometheus agent that scrapes it on loopback and remote-writes to the receiver. SIGTERM goes to both;
# when either exits on its own, the other is stopped and the container exits non-zero, so the platform
# restarts it. Only POSIX sh plus `wait -n` (bash, busybox ash).
set -eu
rest_port="${PORT:-${REST_PORT}}"
set -- tensorflow_model_server \
  --port="${GRPC_PORT}" \
  --rest_api_port="${rest_port}" \
  --model_name="${MODEL_NAME}" \
  --model_base_path="${MODEL_BASE_PATH}/${MODEL_NAME}" \
  --monitoring_config_file="${MONITORING_CONFIG_FILE}" \
  "$@"

if [ "${METRICS_MODE:-scrape}" != push ]; then
  exec "$@"
fi

fail() {
  echo "tfserving-entrypoint: $*" >&2
  exit 64
}
# The agent's config names the REST port at render time (Prometheus expands variables only in labels).
[ "${rest_port}" = "${REST_PORT}" ] || fail "PORT=${PORT} differs from REST_PORT=${REST_PORT}, the port the agent scrapes; set PORT=${REST_PORT} or unset it"
[ -n "${METRICS_RECEIVER_PASSWORD:-}" ] || fail "METRICS_RECEIVER_PASSWORD is not set; the deploy sets it (a Railway variable, or the container's environment)"

# The password goes to a file only the agent reads, and out of the environment the model server inherits.
mkdir -p "${AGENT_DATA_DIR}"
(umask 077 && printf '%s' "${METRICS_RECEIVER_PASSWORD}" > "${AGENT_PASSWORD_FILE}")
unset METRICS_RECEIVER_PASSWORD
# external_labels of the agent: Railway's replica and region, or a stable fallback (the container's hostname).
export TFSERVING_REPLICA="${RAILWAY_REPLICA_ID:-${HOSTNAME:-local}}"
export TFSERVING_REGION="${RAILWAY_REPLICA_REGION:-local}"

stopping=0
server=
agent=
stop_both() { kill -TERM ${server:+"${server}"} ${agent:+"${agent}"} 2>/dev/null || true; }
# Trapped before anything starts: PID 1 without a handler ignores SIGTERM and would wait for SIGKILL.
trap 'stopping=1; stop_both' TERM INT

"$@" &
server=$!
# A short flush deadline: on SIGTERM the agent sends what it still holds, then exits within the
# platform's grace period (Docker's default is 10s, Railway's reportedly 3s) instead of retrying an
# unreachable receiver for 1m.
prometheus --agent \
  --config.file="${AGENT_CONFIG_FILE}" \
  --storage.remote.flush-deadline=2s \
  --storage.agent.path="${AGENT_DATA_DIR}/wal" \
  --web.listen-address="${AGENT_LISTEN_ADDRESS}" &
agent=$!
# A stop that arrived while they started reached neither of them.
[ "${stopping}" = 1 ] && stop_both
set +e
# As PID 1 this shell also inherits orphaned processes; `wait -n` may return for one of those (busybox
# does), so it only counts when one of our two processes is really gone.
while :; do
  wait -n
  status=$?
  [ "${stopping}" = 1 ] && break
  kill -0 "${server}" 2>/dev/null && kill -0 "${agent}" 2>/dev/null || break
done
if [ "${stopping}" = 0 ]; then
  echo "tfserving-entrypoint: a process exited with status ${status}; stopping the other" >&2
  stop_both
fi
wait
[ "${stopping}" = 1 ] && exit 0
[ "${status}" = 0 ] && status=1
exit "${status}"
