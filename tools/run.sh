#!/usr/bin/env bash
# `make run`: plays continuo through JACK with configs/default.toml. Uses the JACK (or
# PipeWire-JACK) server that is running; when none is, starts a private jackd for this
# session: on the first sound card if there is one, else on the dummy backend (silent,
# but the whole engine runs), and says which. CONTINUO_JACKD_BACKEND=dummy skips the
# sound card; CONTINUO_JACKD_OPTIONS adds server options before the backend (tests pass -S:
# a synchronous server never runs continuo without the clients after it).
set -euo pipefail
cd "$(dirname "$0")/.."
continuo=${CONTINUO:-build/continuo}
jackd_pid=""

stop_private_jackd() { [ -n "$jackd_pid" ] && kill "$jackd_pid" 2>/dev/null || true; }
trap stop_private_jackd EXIT

server_running() { timeout 3 jack_wait -c 2>/dev/null | grep -qx running; }

has_sound_card() { [ -s /proc/asound/cards ] && ! grep -q "no soundcards" /proc/asound/cards; }

start_private_jackd() {
  local backend=("$@")
  # shellcheck disable=SC2086  # the options are words
  jackd --no-realtime ${CONTINUO_JACKD_OPTIONS:-} "${backend[@]}" >"${TMPDIR:-/tmp}/continuo-jackd.log" 2>&1 &
  jackd_pid=$!
  timeout 10 jack_wait -w -t 10 >/dev/null 2>&1
}

if server_running; then
  echo "run: using the JACK server that is already running"
elif [ "${CONTINUO_JACKD_BACKEND:-}" != dummy ] && has_sound_card && start_private_jackd -d alsa -r 48000 -p 256; then
  echo "run: no JACK server was running; started one on the first sound card (jackd -d alsa)"
else
  stop_private_jackd
  start_private_jackd -d dummy -r 48000 -p 256 || { echo "run: could not start jackd; see ${TMPDIR:-/tmp}/continuo-jackd.log" >&2; exit 1; }
  echo "run: no JACK server and no sound card; started a private jackd with the dummy backend."
  echo "     The engine runs, but nothing is audible. 'continuo render' writes what it plays to a file."
fi
echo "run: Ctrl-C stops; 'kill -USR1 <pid>' prints a status line"
"$continuo" run "$@"
