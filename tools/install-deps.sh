#!/usr/bin/env bash
# Installs the Debian packages continuo builds and tests with. Safe to run again.
set -euo pipefail
packages=(
  build-essential cmake pkg-config python3 python3-numpy
  clang-19 libclang-rt-19-dev
  jackd2 libjack-jackd2-dev
  libboost-dev libsamplerate0-dev libsndfile1-dev libtomlplusplus-dev
  libgtest-dev libbenchmark-dev libsentencepiece-dev
  liblo-dev liblo-tools librtmidi-dev
  ableton-link-dev libasio-dev
  fluidsynth musescore-general-soundfont-small
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#packages[@]} packages present"
  exit 0
fi
echo "deps: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
# jackd2 asks about real-time priority on install; answer it without a prompt.
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q "${missing[@]}"
