#!/usr/bin/env bash
# Builds thopter/Dockerfile and hub/Dockerfile with buildah from the committed tree (HEAD), as a user's
# `docker build` would from a fresh clone. Tags: localhost/thopter:TREE and localhost/thopter-hub:TREE (TREE: HEAD's
# tree hash, so an unchanged tree is not built twice) and :test for the newest. Prints the two image names.
# Needs root, buildah, podman (the base image comes from base-image.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(git -C "$here" rev-parse --show-toplevel)
export CONTAINERS_CONF=${CONTAINERS_CONF:-$here/containers.conf}
bash "$here/base-image.sh"
tree=$(git -C "$repo" rev-parse 'HEAD^{tree}' | cut -c1-12)
context=""
trap '[[ -n "$context" ]] && rm -rf "$context"' EXIT
for pair in thopter:thopter/Dockerfile thopter-hub:hub/Dockerfile; do
  name=${pair%%:*} dockerfile=${pair#*:}
  image=localhost/$name:$tree
  if ! podman image exists "$image"; then
    if [[ -z "$context" ]]; then
      context=$(mktemp -d /var/tmp/thopter-context.XXXXXX)
      git -C "$repo" archive HEAD | tar -x -C "$context"
    fi
    buildah bud --isolation chroot --layers=false -q -f "$context/$dockerfile" -t "$image" "$context" >&2
  fi
  podman tag "$image" "localhost/$name:test"
  echo "$image"
done
