#!/usr/bin/env bash
# Trains the default codec on the GPU machine in one device call (docs/training-codec.md, "On
# the GPU machine"). That machine has PyTorch and NumPy but no FluidSynth, no soundfont and no
# package index, and a call carries 64 MiB with the working tree, so the data are rendered there
# by TinySoundFont from a wheel and a soundfont carried in .carry/:
#   tools/train/gpu_train.sh carry   here: .carry/ gets the tinysoundfont wheel for the device's
#                                    Python 3.12 (pip download) and MuseScore_General_Lite.sf3
#                                    (MIT, 40 MB; Debian's musescore-general-soundfont-small)
#   tools/train/gpu_train.sh data    renders $CLIPS clips of $CLIP_SECONDS s (seed $SEED) into
#                                    $WORK/data with every core (--synth tinysoundfont)
#   tools/train/gpu_train.sh codec   trains a codec from scratch with the GPU recipe for
#                                    $CODEC_MINUTES, finishes the run where it stopped (weights and
#                                    held-out metrics), and copies to $OUT what comes back:
#                                    codec.safetensors in parts of 15 MB (a file coming back is at
#                                    most 16 MB; `cat codec.safetensors.part-* > codec.safetensors`),
#                                    run.json, metrics.json and the logs
#   tools/train/gpu_train.sh all     data then codec
# The sf3 and the tree (48 MB, 37 of them models/default) do not fit one call together: move
# models/default out of the checkout for the call and back after it (it is committed). Then:
#   run(command="tools/train/gpu_train.sh all", carry=[".carry"], timeout_s=600)
# Locally, with .venv-train: DEVICE=cpu CLIPS=4 CLIP_SECONDS=4 CODEC_MINUTES=0.3 tools/train/gpu_train.sh all
set -euo pipefail
cd "$(dirname "$0")/../.."
carry=.carry
work=${WORK:-/tmp/continuo-train}
out=${OUT:-$work/out}
python=${PYTHON:-python3}
[ -x .venv-train/bin/python ] && [ -z "${PYTHON:-}" ] && python=.venv-train/bin/python
device=${DEVICE:-cuda}
mkdir -p "$out"

tinysoundfont_on_path() {  # the carried wheel, where the interpreter lacks the package
  "$python" -c 'import tinysoundfont' 2>/dev/null && return
  "$python" -m pip install -q --no-index --no-deps --no-compile --target "$work/site" "$carry"/tinysoundfont-*.whl
  export PYTHONPATH="$work/site${PYTHONPATH:+:$PYTHONPATH}"
}

stage_carry() {
  mkdir -p "$carry"
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d "$carry" tinysoundfont==0.3.7
  cp /usr/share/sounds/sf3/MuseScore_General_Lite.sf3 "$carry"/
  du -sh "$carry"
}

stage_data() {
  tinysoundfont_on_path
  rm -rf "$work/data"
  "$python" tools/train/data/build.py --out "$work/data" --clips "${CLIPS:-1200}" --seconds "${CLIP_SECONDS:-20}" \
    --seed "${SEED:-11}" --synth tinysoundfont --soundfont "$carry/MuseScore_General_Lite.sf3" \
    --jobs "$(nproc)" 2>&1 | tee "$out/data.log"
}

stage_codec() {
  local run=$work/codec
  rm -rf "$run"
  # The recipe: phase_accumulate (no hop buzz), the note head (the codes hold the notes), the
  # pitch-resolving and phase-advance losses (the decoder plays them), the adversary from the
  # start (docs/models.md says what each did on 2 cores).
  "$python" tools/train/train_codec.py --data "$work/data" --out "$run" --device "$device" \
    --set phase_accumulate=True --note-weight 2 --pitch-weight 1 --phase-weight 3 --adversarial-weight 0.3 \
    --batch "${BATCH:-16}" --crop-frames 32 --lr 1e-3 --warmup 200 --steps "${CODEC_STEPS:-100000}" \
    --max-minutes "${CODEC_MINUTES:-7}" --threads "$(nproc)" --log-every 30 2>&1 | tee "$out/codec.log"
  local reached
  reached=$("$python" -c 'import sys, torch; print(torch.load(sys.argv[1], map_location="cpu", weights_only=False)["step"])' \
    "$run/training_state.pt")
  "$python" tools/train/train_codec.py --resume "$run" --steps "$reached" --device "$device" 2>&1 | tee -a "$out/codec.log"
  split -b 15M -d "$run/codec.safetensors" "$out/codec.safetensors.part-"
  cp "$run/run.json" "$run/metrics.json" "$out/"
}

for stage in "${@:-all}"; do
  case $stage in
    carry) stage_carry ;;
    data) stage_data ;;
    codec) stage_codec ;;
    all) stage_data; stage_codec ;;
    *) echo "gpu_train.sh: unknown stage $stage (carry, data, codec, all)" >&2; exit 2 ;;
  esac
done
