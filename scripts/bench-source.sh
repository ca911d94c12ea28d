#!/usr/bin/env bash
# Benchmarks the source cache against git itself over git:// (a local git daemon): the first
# clone, a poll with nothing new, and a poll after one new commit. tai-gitops' figures include
# rendering environments/dev from the snapshot; git's are `git clone --bare` and `git fetch`.
# Usage: scripts/bench-source.sh [FILES]   (extra files in the repository, default 2000)
set -euo pipefail
cd "$(dirname "$0")/.."
FILES=${1:-2000}
swift build -c release --product tai-gitops >&2
BIN=$(swift build -c release --show-bin-path)/tai-gitops
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
git init -q -b main "$WORK/origin"
cp -r base overlays environments "$WORK/origin/"
mkdir -p "$WORK/origin/docs"
for i in $(seq 1 "$FILES"); do printf 'file %s\n%s\n' "$i" "$(head -c 600 /dev/urandom | base64 -w 0)" > "$WORK/origin/docs/f$i.txt"; done
git -C "$WORK/origin" add -A && git -C "$WORK/origin" -c user.name=b -c user.email=b@x commit -qm init
git -C "$WORK/origin" config daemon.uploadpack true
PORT=$((20000 + RANDOM % 30000))
"$(git --exec-path)/git-daemon" --reuseaddr --export-all --base-path="$WORK" --listen=127.0.0.1 --port=$PORT "$WORK" &
sleep 0.5
URL="git://127.0.0.1:$PORT/origin"
t() { /usr/bin/time -f "%e" -o "$WORK/t" "$@" > /dev/null 2>&1; cat "$WORK/t"; }
tai() { t "$BIN" build environments/dev --repo "$URL" --revision main --cache-dir "$WORK/cache"; }
printf '| step (%s files) | tai-gitops (fetch + snapshot + render) | git |\n|---|---|---|\n' "$((FILES + $(find base overlays environments -type f | wc -l)))"
printf '| first clone | %s s | %s s (clone --bare) |\n' "$(tai)" "$(t git clone -q --bare "$URL" "$WORK/gitclone.git")"
printf '| poll, nothing new | %s s | %s s (fetch) |\n' "$(tai)" "$(t git -C "$WORK/gitclone.git" fetch -q origin '+refs/heads/*:refs/heads/*')"
echo "# a change" >> "$WORK/origin/environments/dev/kustomization.yaml"
git -C "$WORK/origin" -c user.name=b -c user.email=b@x commit -qam change
printf '| poll after one commit | %s s | %s s (fetch) |\n' "$(tai)" "$(t git -C "$WORK/gitclone.git" fetch -q origin '+refs/heads/*:refs/heads/*')"
