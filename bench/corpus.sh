#!/usr/bin/env bash
# Benchmarks looplint over the pinned real-world corpus (../shared/corpus.sh builds it).
#
#   bench/corpus.sh [rust|python|all]
#
# Rust: wall time and peak memory of `looplint check` against the parse-only floor (syn alone over
# the same files, same thread count), as a paired ratio measured in one run.
# Python: against `ruff check --no-cache --select ASYNC,RUF006` on the same files (ruff from PyPI,
# installed into a throwaway virtualenv under the corpus directory; never vendored).
# Threads: RAYON_NUM_THREADS (default 2). Repeats: REPEAT (default 3, the best run counts).
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
CORPUS_DIR=${CORPUS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/looplint-corpus}
export RAYON_NUM_THREADS=${RAYON_NUM_THREADS:-2}
REPEAT=${REPEAT:-3}
[ -d "$CORPUS_DIR/rust" ] || bash ../shared/corpus.sh >/dev/null
cargo build --release --quiet --bin looplint
bin=target/release/looplint

# measure LABEL CMD...: best wall seconds and peak RSS (MiB) over REPEAT runs.
measure() {
  local label=$1; shift
  local best_wall=999999 best_rss=0
  for _ in $(seq "$REPEAT"); do
    /usr/bin/time -o /tmp/looplint-bench-time -f '%e %M' "$@" >/dev/null 2>&1 || true
    local out wall rss
    out=$(tail -n 1 /tmp/looplint-bench-time)
    wall=${out% *} rss=${out#* }
    if awk "BEGIN{exit !($wall < $best_wall)}"; then best_wall=$wall; best_rss=$rss; fi
  done
  printf '%-28s %8.2f s %8.1f MiB\n' "$label" "$best_wall" "$(awk "BEGIN{print $best_rss/1024}")"
  echo "$best_wall $best_rss" > "/tmp/looplint-bench-$label"
}

ratio() {
  read -r a _ < "/tmp/looplint-bench-$1"
  read -r b _ < "/tmp/looplint-bench-$2"
  awk "BEGIN{printf \"ratio %s / %s = %.2f\n\", \"$1\", \"$2\", $a/$b}"
}

if [ "$what" = rust ] || [ "$what" = all ]; then
  cargo build --release --quiet --bench parse_floor
  floor=$(ls -t target/release/deps/parse_floor-* | grep -v '\.d$' | head -n 1)
  echo "rust corpus: $(find "$CORPUS_DIR/rust" -name '*.rs' | wc -l) files, $RAYON_NUM_THREADS threads"
  measure rust-parse-floor "$floor" "$CORPUS_DIR/rust"
  measure rust-looplint "$bin" check --statistics --exit-zero "$CORPUS_DIR/rust"
  ratio rust-looplint rust-parse-floor
fi

if [ "$what" = python ] || [ "$what" = all ]; then
  venv="$CORPUS_DIR/.ruff-venv"
  [ -x "$venv/bin/ruff" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install --quiet ruff; }
  echo "python corpus: $(find "$CORPUS_DIR/python" -name '*.py' | wc -l) files, $RAYON_NUM_THREADS threads"
  measure python-ruff "$venv/bin/ruff" check --no-cache --select ASYNC,RUF006 --exit-zero --quiet "$CORPUS_DIR/python"
  measure python-looplint "$bin" check --statistics --exit-zero "$CORPUS_DIR/python"
  ratio python-looplint python-ruff
fi
