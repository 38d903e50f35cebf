#!/usr/bin/env bash
# Test fixture: a stand-in for docker.io/library/node:22-bookworm-slim, which no image registry here can serve.
# Debian bookworm (debootstrap, minbase) plus this host's Node install and CA bundle, imported into podman's store
# under the official name, so thopter/Dockerfile and hub/Dockerfile build unchanged. Made once per machine (cached in
# podman's store); THOPTER_BASE_REBUILD=1 makes it again. Needs root, debootstrap and podman.
set -euo pipefail
IMAGE=docker.io/library/node:22-bookworm-slim
if [[ "${THOPTER_BASE_REBUILD:-}" != 1 ]] && podman image exists "$IMAGE"; then
  exit 0
fi
mirror=$(awk '/^URIs:/ {print $2; exit} /^deb / {print $2; exit}' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null || true)
mirror=${mirror:-http://deb.debian.org/debian}
rootfs=$(mktemp -d /var/tmp/thopter-base.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT
debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >/dev/null

# Node: the binary, npm and corepack with their links, and the headers native addons compile against.
node_bin=$(readlink -f "$(command -v node)")
prefix=$(dirname "$(dirname "$node_bin")")
install -D -m 0755 "$node_bin" "$rootfs/usr/local/bin/node"
mkdir -p "$rootfs/usr/local/lib/node_modules" "$rootfs/usr/local/include"
cp -a "$prefix/lib/node_modules/npm" "$prefix/lib/node_modules/corepack" "$rootfs/usr/local/lib/node_modules/"
cp -a "$prefix/include/node" "$rootfs/usr/local/include/"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
ln -sf ../lib/node_modules/corepack/dist/corepack.js "$rootfs/usr/local/bin/corepack"

# The CA bundle this host trusts (registries may be reached through a TLS-inspecting proxy).
ca=${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}
install -D -m 0644 "$ca" "$rootfs/etc/thopter-test-ca.crt"

tar -C "$rootfs" -c . | podman import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV NODE_EXTRA_CA_CERTS=/etc/thopter-test-ca.crt' \
  --change 'ENV COREPACK_INTEGRITY_KEYS=0' \
  --change 'ENV npm_config_nodedir=/usr/local' \
  --change 'CMD ["node"]' \
  - "$IMAGE" >/dev/null
