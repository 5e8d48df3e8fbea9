#!/usr/bin/env bash
# CI the hard way, as a new machine sees it: a fresh clone of HEAD, no .cache/, the container
# tier's images removed from the daemon (so they are bootstrapped again), then `.ci/run`.
#
#   bash tools/fresh_ci.sh            # run it; the log and the time go to the terminal
#   FRESH_CI_USER_CACHES=0 bash ...   # also start pip's and uv's own caches empty
#
# A green `make test` in a working checkout hides what a new machine lacks (an image that was
# already built, a cache that was already filled): run this before every stop (DEVELOPERS.md).
set -euo pipefail
repo=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
work=$(mktemp -d /tmp/python-cnb-fresh-ci.XXXXXX)
chmod 755 "$work"  # as a checkout normally is: the non-root build tests run as uid 1000
git clone --quiet "$repo" "$work/repo"
echo "fresh clone of $(git -C "$repo" rev-parse --short HEAD) in $work/repo"

if docker info >/dev/null 2>&1; then
  images=$(docker images --format '{{.Repository}}:{{.Tag}}' \
    | grep -E '^python-cnb(-e2e)?/' || true)
  if [ -n "$images" ]; then
    echo "removing the container tier's images:" $images
    # shellcheck disable=SC2086
    docker rmi --force $images >/dev/null
  fi
fi

if [ "${FRESH_CI_USER_CACHES:-1}" = 0 ]; then
  export XDG_CACHE_HOME="$work/user-cache"  # pip and uv keep their caches under it
  mkdir -p "$XDG_CACHE_HOME"
fi

cd "$work/repo"
start=$(date +%s)
status=0
CI=true bash .ci/run </dev/null || status=$?
echo "fresh-clone CI: exit $status after $(( $(date +%s) - start )) s (clone in $work/repo)"
exit "$status"
