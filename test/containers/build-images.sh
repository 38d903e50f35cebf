#!/usr/bin/env bash
# Builds thopter/Dockerfile and hub/Dockerfile with buildah from the committed tree (HEAD), as a user's
# `docker build` would from a fresh clone (commit what you want in the image). Tags: localhost/thopter:KEY and
# localhost/thopter-hub:KEY, KEY hashing what goes into the images (the packages, images' files, lockfile; not tests
# or docs), so a commit that changes neither is not built again; and :test for the newest. Prints the two names.
# Needs root, buildah, podman (the base image comes from base-image.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(git -C "$here" rev-parse --show-toplevel)
export CONTAINERS_CONF=${CONTAINERS_CONF:-$here/containers.conf}
bash "$here/base-image.sh"
inputs=(protocol hub broker-mcp thopter-agent fly thopter prompts package.json pnpm-lock.yaml pnpm-workspace.yaml
  tsconfig.base.json tsconfig.json .dockerignore test/package.json)
key=$(git -C "$repo" ls-tree HEAD -- "${inputs[@]}" | sha1sum | cut -c1-12)
context=""
trap '[[ -n "$context" ]] && rm -rf "$context"' EXIT
for pair in thopter:thopter/Dockerfile thopter-hub:hub/Dockerfile; do
  name=${pair%%:*} dockerfile=${pair#*:}
  image=localhost/$name:$key
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
