#!/usr/bin/env bash
# The entry point of the project's Flink images, with the official image's contract (the Flink
# Kubernetes decorators and the reference operator rely on it):
#
#   docker-entrypoint.sh help                        this text
#   docker-entrypoint.sh jobmanager [ARGS]           a session JobManager in the foreground
#   docker-entrypoint.sh standalone-job [ARGS]       an application JobManager (--job-classname C,
#                                                    --fromSavepoint P, --allowNonRestoredState,
#                                                    -D key=value, then the job's arguments)
#   docker-entrypoint.sh taskmanager [ARGS]          a TaskManager
#   docker-entrypoint.sh history-server              the history server
#   docker-entrypoint.sh ANYTHING ELSE...            run as a command (pass-through): native
#                                                    Kubernetes runs `bash -c "kubernetes-jobmanager.sh
#                                                    kubernetes-application"` this way
#
# For the four Flink commands the configuration is prepared first: JOB_MANAGER_RPC_ADDRESS (or the
# host name) as jobmanager.rpc.address when the configuration sets none, blob.server.port 6124,
# then the lines of FLINK_PROPERTIES. A configuration directory that cannot be written (a
# ConfigMap) is copied to a writable one first (FLINK_CONF_DIR). ENABLE_BUILT_IN_PLUGINS
# (semicolon-separated jar names under opt/) are linked into plugins/. Started as root, it runs
# Flink as the user flink (9999).
set -euo pipefail

FLINK_HOME=${FLINK_HOME:-/opt/flink}
export FLINK_CONF_DIR=${FLINK_CONF_DIR:-$FLINK_HOME/conf}

usage() {
  sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
}

as_flink() {
  if [ "$(id -u)" = 0 ]; then
    exec setpriv --reuid=9999 --regid=9999 --init-groups "$@"
  fi
  exec "$@"
}

conf_file() {
  if [ -f "$FLINK_CONF_DIR/config.yaml" ]; then echo "$FLINK_CONF_DIR/config.yaml"; else echo "$FLINK_CONF_DIR/flink-conf.yaml"; fi
}

# key: value lines only when the key is not there (the operator's configuration wins)
set_default() {
  local f key=$1 value=$2
  f=$(conf_file)
  grep -Eq "^[\"']?${key//./\\.}[\"']?[[:space:]]*:" "$f" 2>/dev/null || printf '%s: %s\n' "$key" "$value" >> "$f"
}

prepare_configuration() {
  if [ ! -w "$FLINK_CONF_DIR" ] || { [ -e "$(conf_file)" ] && [ ! -w "$(conf_file)" ]; }; then
    local dir
    dir=$(mktemp -d /tmp/flink-conf.XXXXXX)
    cp -rL "$FLINK_CONF_DIR"/. "$dir"/ 2>/dev/null || true
    chmod -R u+w "$dir"
    export FLINK_CONF_DIR=$dir
  fi
  touch "$(conf_file)"
  set_default jobmanager.rpc.address "${JOB_MANAGER_RPC_ADDRESS:-$(hostname -f 2>/dev/null || hostname)}"
  set_default blob.server.port 6124
  if [ -n "${FLINK_PROPERTIES:-}" ]; then printf '%s\n' "$FLINK_PROPERTIES" >> "$(conf_file)"; fi
  if [ "$(id -u)" = 0 ]; then chown -R 9999:9999 "$FLINK_CONF_DIR"; fi
}

enable_plugins() {
  [ -n "${ENABLE_BUILT_IN_PLUGINS:-}" ] || return 0
  local jar
  IFS=';' read -ra jars <<< "$ENABLE_BUILT_IN_PLUGINS"
  for jar in "${jars[@]}"; do
    [ -n "$jar" ] || continue
    if [ ! -f "$FLINK_HOME/opt/$jar" ]; then echo "docker-entrypoint: no plugin $FLINK_HOME/opt/$jar" >&2; exit 1; fi
    mkdir -p "$FLINK_HOME/plugins/${jar%.jar}"
    ln -sfn "$FLINK_HOME/opt/$jar" "$FLINK_HOME/plugins/${jar%.jar}/$jar"
  done
}

cmd=${1:-help}
case $cmd in
  help) usage; exit 0 ;;
  jobmanager|standalone-job|taskmanager|history-server)
    shift || true
    enable_plugins
    prepare_configuration
    case $cmd in
      jobmanager) as_flink "$FLINK_HOME/bin/jobmanager.sh" start-foreground "$@" ;;
      standalone-job) as_flink "$FLINK_HOME/bin/standalone-job.sh" start-foreground "$@" ;;
      taskmanager) as_flink "$FLINK_HOME/bin/taskmanager.sh" start-foreground "$@" ;;
      history-server) as_flink "$FLINK_HOME/bin/historyserver.sh" start-foreground "$@" ;;
    esac
    ;;
  *)
    enable_plugins
    as_flink "$@"
    ;;
esac
