#!/usr/bin/env bash
# Measure the build budgets (not a test): `make book` from a clean _build, an unchanged
# rebuild, `make test`, the site's size and its heaviest page. Usage: tools/measure_build.sh
# [--no-test]. Prints wall-clock and CPU seconds (user+sys, children included): on a shared
# machine the CPU figure is the better guide to what an idle 2-core machine would take.
# Budgets (issue 2): book < 90 s, unchanged rebuild < 10 s, make test < 5 min.
set -euo pipefail
cd "$(dirname "$0")/.."

run_timed() {  # label, command...
  local label=$1; shift
  local out; out=$(mktemp)
  local start end rc=0
  start=$(date +%s.%N)
  /usr/bin/time -f "%U %S" -o "$out.cpu" "$@" >"$out" 2>&1 || rc=$?
  end=$(date +%s.%N)
  read -r user sys < <(tail -n 1 "$out.cpu")
  printf '%-28s wall %7.1f s   cpu %7.1f s   exit %s   (load avg %s)\n' "$label" \
    "$(echo "$end - $start" | bc)" "$(echo "$user + $sys" | bc)" "$rc" \
    "$(cut -d' ' -f1-3 /proc/loadavg)"
  if [ "$rc" != 0 ]; then tail -n 25 "$out" | sed 's/^/    | /'; fi
  grep -E '^=+ .* in [0-9.]+s' "$out" | tail -1 | sed 's/^/    /' || true
  grep -m1 'lib/ changed' "$out" | sed 's/^/    /' || true
  printf '    notebooks executed by the build: %s\n' "$(grep -c 'Executed notebook' "$out" || true)"
  rm -f "$out" "$out.cpu"
}

make --no-print-directory install >/dev/null
echo "== $(date -u +%FT%TZ) on $(nproc) cores"
rm -rf _build
run_timed "make book (clean _build)" make --no-print-directory book
run_timed "make book (unchanged)" make --no-print-directory book
if [ "${1:-}" != "--no-test" ]; then
  run_timed "make test" make --no-print-directory test
fi

echo "site size: $(du -sh _build/html | cut -f1) ($(du -sh _build/html/_static/mathjax | cut -f1) of it bundled MathJax)"
.venv/bin/python - <<'PY'
"""Heaviest pages: the HTML plus the images it shows."""
from pathlib import Path
import re

site = Path("_build/html")
rows = []
for page in site.rglob("*.html"):
    if "_static" in page.parts:
        continue
    text = page.read_text(encoding="utf-8")
    images = {(page.parent / src).resolve() for src in re.findall(r'<img[^>]+src="([^"]+)"', text)}
    size = page.stat().st_size + sum(p.stat().st_size for p in images if p.is_file())
    rows.append((size, page.relative_to(site).as_posix(), len(images)))
for size, name, n in sorted(rows, reverse=True)[:3]:
    print(f"heavy page: {name}  {size / 1e6:.2f} MB (HTML + {n} images)")
PY
