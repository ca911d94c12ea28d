#!/usr/bin/env bash
# Installs what tai-gitops needs on a fresh Debian 12 machine (idempotent; quiet when all is there):
# the C libraries it links (libgit2, libcurl, libyaml) and the tools its tests start (git, openssl,
# python3, nginx-light and fcgiwrap for the smart-HTTP git server, openssh-server for the ssh one,
# curl for the agent tests, headless chromium and a font for the status page test, prometheus for the promotion analysis tests). Swift 6.x and kubectl v1.32 are expected on PATH, as on this project's machines.
set -euo pipefail

packages=(libgit2-dev libcurl4-openssl-dev libyaml-dev pkg-config git openssl python3 ca-certificates nginx-light fcgiwrap openssh-server openssh-client curl chromium fonts-dejavu-core prometheus)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

for tool in swift kubectl; do
  command -v "$tool" >/dev/null || { echo "bootstrap: '$tool' is not on PATH; this machine kind provides it" >&2; exit 1; }
done
