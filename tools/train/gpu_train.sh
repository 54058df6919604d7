#!/usr/bin/env bash
# Trains the default model's codec and LM on the GPU machine, in device calls of at most 10
# minutes (docs/training-codec.md, "On the GPU machine"). That machine has PyTorch and NumPy but
# no FluidSynth, no soundfont and no package index, keeps nothing between calls, and a call
# carries 64 MiB with the working tree; a file coming back is at most 16 MB, so larger ones
# come back in parts of 15 MB (`cat NAME.part-* > NAME`). Stages:
#   carry     here: .carry/ gets the tinysoundfont wheel for the device's Python 3.12 (pip
#             download), MuseScore_General_Lite.sf3 (MIT, 40 MB; Debian's
#             musescore-general-soundfont-small) and the text tower $STYLE_RUN (a train_style.py
#             output, default /work/runs/style-v2) as .carry/style
#   data      renders $CLIPS clips of $CLIP_SECONDS s (seed $SEED) into $WORK/data with every core
#             (--synth tinysoundfont)
#   codec     trains a codec from scratch with the GPU recipe (CODEC_PRESET=peak: the peak preset,
#             peak_phase), its steps fitted (--fit-minutes) to $CODEC_MINUTES, by default what the
#             call's $CALL_SECONDS (570) leave after 150 s for its evaluation and `tokenize`; back:
#             codec.safetensors, run.json, metrics.json, the log
#   tokenize  the data's codes by that codec, each clip's style tokens by .carry/style from its
#             style name, packed for the LM (pack_lm_data.py); back: lm-pack.npz and the
#             data's manifest.json
#   lm        trains the bundled LM shape on .carry/lm-pack.npz, fitted to $LM_MINUTES, by default
#             what the call leaves after 60 s; back: depthformer.safetensors, lm.json, the log
#   all       data, codec, tokenize
# A session: `gpu_train.sh carry` here; move models/default out of the checkout (it is committed;
# the sf3 and the tree do not fit one call with it) and
#   run(command="tools/train/gpu_train.sh all", carry=[".carry"], timeout_s=600)
# then put lm-pack.npz (joined) at .carry/lm-pack.npz and
#   run(command="tools/train/gpu_train.sh lm", carry=[".carry/lm-pack.npz"], timeout_s=600)
# and locally join the parts into a codec run and an LM run for export_default.py.
# Locally, with .venv-train: DEVICE=cpu CLIPS=12 CLIP_SECONDS=4 CODEC_MINUTES=0.5 LM_MINUTES=0.5 \
#   LM_VALIDATION_CLIPS=2 tools/train/gpu_train.sh all lm   (lm then reads $OUT/lm-pack.npz)
set -euo pipefail
cd "$(dirname "$0")/../.."
carry=.carry
work=${WORK:-/tmp/continuo-train}
out=${OUT:-$work/out}
python=${PYTHON:-python3}
[ -x .venv-train/bin/python ] && [ -z "${PYTHON:-}" ] && python=.venv-train/bin/python
device=${DEVICE:-cuda}
call_seconds=${CALL_SECONDS:-570}  # a device call's 600 s, less a margin for the copy back
mkdir -p "$out"

minutes_left() {  # RESERVE: the call's minutes still free after RESERVE seconds kept for what follows
  awk -v call="$call_seconds" -v spent="$SECONDS" -v reserve="$1" \
    'BEGIN { m = (call - spent - reserve) / 60; printf "%.2f", (m < 0.5 ? 0.5 : m) }'
}

tinysoundfont_on_path() {  # the carried wheel, where the interpreter lacks the package
  "$python" -c 'import tinysoundfont' 2>/dev/null && return
  "$python" -m pip install -q --no-index --no-deps --no-compile --target "$work/site" "$carry"/tinysoundfont-*.whl
  export PYTHONPATH="$work/site${PYTHONPATH:+:$PYTHONPATH}"
}

stage_carry() {
  local style=${STYLE_RUN:-/work/runs/style-v2}
  [ -f "$style/text_tower.toml" ] || { echo "gpu_train.sh: $style is no train_style.py output (set STYLE_RUN)" >&2; exit 2; }
  mkdir -p "$carry"
  rm -rf "$carry/style" && cp -r "$style" "$carry/style"
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

send_back() {  # FILE: into $out whole, or in parts of 15 MB where it is larger
  if [ "$(stat -c %s "$1")" -gt $((15 * 1024 * 1024)) ]; then
    split -b 15M -d "$1" "$out/$(basename "$1").part-"
  else
    cp "$1" "$out/"
  fi
}

stage_codec() {
  local run=$work/codec
  rm -rf "$run"
  # The recipe: phase_accumulate (no hop buzz), the note head (the codes hold the notes), the
  # pitch-resolving and phase-advance losses (the decoder plays them), the adversary from the
  # start (docs/models.md says what each did on 2 cores). CODEC_PRESET=peak: the peak preset
  # instead (a 1920-point STFT in the peak_phase mode: phases from the magnitudes, so no
  # phase-advance loss but the magnitude term, which took its hop buzz from 12.9 to 2.4 on
  # 2 cores; its receptive field needs crops of 48 frames).
  local mode=(--set phase_accumulate=True --phase-weight 3) crop=32
  if [ "${CODEC_PRESET:-}" = peak ]; then mode=(--config peak --magnitude-weight 1); crop=48; fi
  "$python" tools/train/train_codec.py --data "$work/data" --out "$run" --device "$device" \
    "${mode[@]}" --note-weight 2 --pitch-weight 1 --adversarial-weight 0.3 \
    --batch "${BATCH:-16}" --crop-frames "$crop" --lr 1e-3 --warmup 200 --steps "${CODEC_STEPS:-100000}" \
    --fit-minutes "${CODEC_MINUTES:-$(minutes_left 150)}" --threads "$(nproc)" --log-every 30 2>&1 | tee "$out/codec.log"
  [ -f "$run/codec.safetensors" ] || finish_codec "$run"
  send_back "$run/codec.safetensors"
  cp "$run/run.json" "$run/metrics.json" "$out/"
}

finish_codec() {  # RUN: stopped by the clock before its fitted steps; its weights and metrics as they are
  local reached
  reached=$("$python" -c 'import sys, torch; print(torch.load(sys.argv[1], map_location="cpu", weights_only=False)["step"])' \
    "$1/training_state.pt")
  "$python" tools/train/train_codec.py --resume "$1" --steps "$reached" --device "$device" 2>&1 | tee -a "$out/codec.log"
}

stage_tokenize() {
  "$python" tools/train/tokenize_dataset.py --codec "$work/codec" --data "$work/data" --name gpu --overwrite \
    --device "$device" --threads "$(nproc)" 2>&1 | tee "$out/tokenize.log"
  "$python" tools/train/train_style.py --data "$work/data" --tower "$carry/style" --style-names 2>&1 | tee -a "$out/tokenize.log"
  "$python" tools/train/pack_lm_data.py --data "$work/data" --codes gpu --out "$work/lm-pack.npz" 2>&1 | tee -a "$out/tokenize.log"
  send_back "$work/lm-pack.npz"
  cp "$work/data/manifest.json" "$out/"  # the model card's data section (export_default.py)
}

stage_lm() {
  local run=$work/lm pack=${LM_PACK:-$carry/lm-pack.npz}
  [ -f "$pack" ] || pack=$out/lm-pack.npz  # a local run of `all lm`
  rm -rf "$run"
  # The bundled shape (docs/models.md: 11.6 M parameters, >= 3x real time on 2 cores), with what
  # made the notes count on 2 cores: spliced windows and louder note rows.
  "$python" tools/train/train_lm.py --pack "$pack" --out "$run" --device "$device" \
    --set temporal_layers=4 --set temporal_dims=256 --set temporal_ffn=1024 --set temporal_heads=4 \
    --set temporal_head_dims=64 --set depth_dims=192 --set depth_ffn=384 --set depth_heads=3 \
    --set depth_head_dims=64 --splice 0.5 --note-row-norm 256 --window 64 --batch "${LM_BATCH:-64}" \
    --lr 1e-3 --warmup 300 --steps "${LM_STEPS:-1000000}" --fit-minutes "${LM_MINUTES:-$(minutes_left 60)}" \
    --validation-clips "${LM_VALIDATION_CLIPS:-24}" --validate-every 2000 --save-every 100000 \
    --log-every 100 --threads "$(nproc)" 2>&1 | tee "$out/lm.log"
  send_back "$run/depthformer.safetensors"
  cp "$run/lm.json" "$out/"
}

for stage in "${@:-all}"; do
  case $stage in
    carry) stage_carry ;;
    data) stage_data ;;
    codec) stage_codec ;;
    tokenize) stage_tokenize ;;
    lm) stage_lm ;;
    all) stage_data; stage_codec; stage_tokenize ;;
    *) echo "gpu_train.sh: unknown stage $stage (carry, data, codec, tokenize, lm, all)" >&2; exit 2 ;;
  esac
done
