#!/usr/bin/env bash
# Make the container tier runnable on a Debian machine (as root): install docker.io and
# debootstrap when missing, and start a Docker daemon without a bridge or iptables when none
# answers (containers then use host networking only). Used by .ci/run and `make e2e`.
set -euo pipefail

packages=()
command -v dockerd >/dev/null || packages+=(docker.io)
command -v debootstrap >/dev/null || packages+=(debootstrap)
if ((${#packages[@]})); then
  if [ "$(id -u)" != 0 ]; then
    echo "ensure_docker: ${packages[*]} missing, and only root can install them" >&2
    exit 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}"
fi

if ! docker info >/dev/null 2>&1; then
  log=/var/log/python-cnb-dockerd.log
  nohup dockerd --bridge=none --iptables=false >"$log" 2>&1 &
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { echo "dockerd did not start:" >&2; tail -20 "$log" >&2; exit 1; }
fi
echo "ensure_docker: Docker $(docker version --format '{{.Server.Version}}') answers"
