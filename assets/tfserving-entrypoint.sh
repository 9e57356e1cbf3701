#!/bin/sh
# Starts TF Serving with its Prometheus endpoint on the REST port.
# `exec` makes tensorflow_model_server PID 1, so SIGTERM from Docker or Railway reaches it.
# Railway injects PORT; elsewhere the image's REST_PORT applies. Tuning flags arrive as "$@"
# (the image's CMD), and a flag given twice resolves to the last one.
set -eu
exec tensorflow_model_server \
  --port="${GRPC_PORT}" \
  --rest_api_port="${PORT:-${REST_PORT}}" \
  --model_name="${MODEL_NAME}" \
  --model_base_path="${MODEL_BASE_PATH}/${MODEL_NAME}" \
  --monitoring_config_file="${MONITORING_CONFIG_FILE}" \
  "$@"
