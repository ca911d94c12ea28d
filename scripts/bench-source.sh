#!/usr/bin/env bash
# Benchmarks the source cache against git itself over git:// (a local git daemon) on a generated
# repository of COMMITS commits and FILES files: the first clone, a poll with nothing new, and a
# poll after one new commit. tai-gitops' figures are `tai-gitops build` (fetch + snapshot + a tiny
# render); git's are `git clone` (with its checkout) and `git pull --ff-only` (fetch + checkout).
# Bytes are the pack sizes each side stored. Usage: scripts/bench-source.sh [COMMITS [FILES]]
set -euo pipefail
cd "$(dirname "$0")/.."
COMMITS=${1:-10000}
FILES=${2:-5000}
BIN=$(scripts/build-release.sh)
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
git init -q -b main "$WORK/origin"
python3 - "$COMMITS" "$FILES" <<'PY' | git -C "$WORK/origin" fast-import --quiet
import sys, random
commits, files = int(sys.argv[1]), int(sys.argv[2])
random.seed(1)
def blob(data):
    b = data.encode()
    sys.stdout.write(f"data {len(b)}\n"); sys.stdout.write(data); sys.stdout.write("\n")
def text(i, v):
    return f"# file {i} version {v}\n" + "".join(f"key{j}: {random.getrandbits(64):x}\n" for j in range(8))
t = 1700000000
for c in range(commits):
    sys.stdout.write("commit refs/heads/main\n")
    sys.stdout.write(f"committer bench <b@x> {t + c} +0000\n")
    blob_msg = f"commit {c}"
    sys.stdout.write(f"data {len(blob_msg)}\n{blob_msg}\n")
    if c == 0:
        sys.stdout.write("M 644 inline environments/dev/kustomization.yaml\n"); blob("resources: [cm.yaml]\n")
        sys.stdout.write("M 644 inline environments/dev/cm.yaml\n"); blob("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n")
        for i in range(files):
            sys.stdout.write(f"M 644 inline data/d{i % 50}/f{i}.yaml\n"); blob(text(i, 0))
    else:
        i = random.randrange(files)
        sys.stdout.write(f"M 644 inline data/d{i % 50}/f{i}.yaml\n"); blob(text(i, c))
    sys.stdout.write("\n")
PY
git -C "$WORK/origin" checkout -q -f main
git -C "$WORK/origin" config daemon.uploadpack true
PORT=$((20000 + RANDOM % 30000))
"$(git --exec-path)/git-daemon" --reuseaddr --export-all --base-path="$WORK" --listen=127.0.0.1 --port=$PORT "$WORK" &
sleep 0.5
URL="git://127.0.0.1:$PORT/origin"
t() { /usr/bin/time -f "%e" -o "$WORK/t" "$@" > /dev/null 2>&1; cat "$WORK/t"; }
tai() { t "$BIN" build environments/dev --repo "$URL" --revision main --cache-dir "$WORK/cache"; }
packs() { du -sk "$1" | awk '{printf "%.1f MiB", $1 / 1024}'; }
printf '| step (%s commits, %s files) | tai-gitops | git |\n|---|---|---|\n' "$COMMITS" "$FILES"
a=$(tai); b=$(t git clone -q "$URL" "$WORK/gitclone")
printf '| first clone | %s s, %s | %s s, %s (clone with checkout) |\n' "$a" "$(packs "$WORK/cache/repos")" "$b" "$(packs "$WORK/gitclone/.git/objects")"
printf '| poll, nothing new | %s s | %s s (pull --ff-only) |\n' "$(tai)" "$(t git -C "$WORK/gitclone" pull -q --ff-only)"
echo "# a change" >> "$WORK/origin/environments/dev/kustomization.yaml"
git -C "$WORK/origin" -c user.name=b -c user.email=b@x commit -qam change
printf '| poll after one commit | %s s | %s s (pull --ff-only) |\n' "$(tai)" "$(t git -C "$WORK/gitclone" pull -q --ff-only)"
