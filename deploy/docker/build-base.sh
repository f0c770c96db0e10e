#!/usr/bin/env bash
# Builds the local base image `edge/base:bookworm` from Debian's packages (debootstrap minbase +
# `docker import`): no container registry needed. Idempotent: does nothing when the image exists
# (pass --force to rebuild). Needs root and a running Docker engine (DOCKER_HOST is honoured).
set -euo pipefail
IMAGE="${EDGE_BASE_IMAGE_LOCAL:-edge/base:bookworm}"
SUITE="bookworm"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
FORCE=0
[[ "${1:-}" == "--force" ]] && FORCE=1

log() { printf '[build-base] %s\n' "$*" >&2; }

if [[ $FORCE -eq 0 ]] && docker image inspect "$IMAGE" >/dev/null 2>&1; then
  log "$IMAGE exists"
  exit 0
fi
command -v debootstrap >/dev/null || { log "debootstrap missing (apt-get install debootstrap)"; exit 1; }

root="$(mktemp -d /var/tmp/edge-base-rootfs.XXXXXX)"
trap 'rm -rf "$root"' EXIT
log "debootstrap --variant=minbase $SUITE ($MIRROR)"
# ca-certificates: TLS for apps that call out; everything else is minbase (glibc, libstdc++, apt,
# passwd for useradd).
debootstrap --variant=minbase --include=ca-certificates "$SUITE" "$root" "$MIRROR" \
  >"$root.log" 2>&1 || { tail -30 "$root.log" >&2; exit 1; }
rm -f "$root.log"
# The same sources as the official debian:bookworm image, so later `apt-get install` works.
cat >"$root/etc/apt/sources.list" <<SRC
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb http://deb.debian.org/debian-security $SUITE-security main
SRC
# What the official slim image trims: docs, man pages, locales, apt caches.
cat >"$root/etc/dpkg/dpkg.cfg.d/01-edge-slim" <<'SLIM'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
SLIM
printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' \
  >"$root/etc/apt/apt.conf.d/01-edge-no-recommends"
find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
rm -rf "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/var/cache/apt/*.bin \
  "$root"/var/lib/apt/lists/* "$root"/var/cache/debconf/*-old "$root"/var/log/*.log
find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
# mktemp made the root 0700: the image's / must be traversable by its unprivileged users.
chmod 0755 "$root"
log "docker import -> $IMAGE"
tar -C "$root" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'CMD ["bash"]' \
  - "$IMAGE" >/dev/null
log "$IMAGE: $(docker image inspect -f '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1/1e6}')"
