"""tools/train/data: the training-data pipeline renders every style to audible 48 kHz
stereo, the same seed gives the same bytes, a note's onset label and its sound fall in the
same 40 ms frame, the drum flag follows the drum part, captions name the style, and bad
arguments, a missing soundfont, a missing fluidsynth or tinysoundfont are refused with the
fix. The rendering checks run with each synth (data/render.py): fluidsynth always,
tinysoundfont where the interpreter has it (.venv-train: `.venv-train/bin/python
tests/integration/test_train_data.py`; Debian's python3 has no package of it).

python3 + numpy (Debian's python3-numpy; this re-runs itself under /usr/bin/python3 when
the python3 first on PATH lacks numpy). Exits 77 (skip) only when fluidsynth is absent.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

REPO = os.environ.get("CONTINUO_SOURCE") or os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TRAIN = os.path.join(REPO, "tools", "train")
BUILD = os.path.join(TRAIN, "data", "build.py")

try:
    import numpy as np
except ImportError:
    if sys.executable != "/usr/bin/python3" and os.path.exists("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3", os.path.abspath(__file__), *sys.argv[1:]])
    sys.exit("test_train_data: numpy is missing (Debian: apt-get install python3-numpy, or make deps)")

sys.path.insert(0, TRAIN)
from data import captions, clips, compose, gm, labels, render, smf, styles  # noqa: E402

SECONDS = 4
FRAMES = SECONDS * 25
SEED = 7


def has_tinysoundfont():
    try:
        render.tinysoundfont_module()
        return True
    except render.SetupError:
        return False


def build(out, *args, env=None):
    return subprocess.run([sys.executable, BUILD, "--out", out, *args], capture_output=True, text=True,
                          env=env, timeout=600)


def load(directory):
    """Every clip of a dataset: {clip index: {field: value}}."""
    with open(os.path.join(directory, "manifest.json")) as f:
        manifest = json.load(f)
    found = {}
    for shard in manifest["shards"]:
        with np.load(os.path.join(directory, shard["file"])) as z:
            for k, index in enumerate(z["index"]):
                found[int(index)] = {name: z[name][k] for name in z.files}
    return manifest, found


def frame_rms_db(audio):
    x = audio.astype(np.float64) / 32768.0
    x = x[: len(x) // labels.FRAME_SAMPLES * labels.FRAME_SAMPLES].reshape(-1, labels.FRAME_SAMPLES * 2)
    return 10 * np.log10(np.mean(x * x, axis=1) + 1e-20)


def spectral_flux(audio):
    """Per 40 ms frame: the log-spectrum's rises summed over its four 10 ms hops."""
    x = audio.astype(np.float64).mean(axis=1) / 32768.0
    hop = labels.FRAME_SAMPLES // 4
    hops = x[: len(x) // hop * hop].reshape(-1, hop) * np.hanning(hop)
    spectrum = np.log(np.abs(np.fft.rfft(hops, axis=1)) + 1e-6)
    rises = np.concatenate([[0.0], np.maximum(np.diff(spectrum, axis=0), 0).sum(axis=1)])
    return rises.reshape(-1, 4).sum(axis=1)


class RenderedData:
    """The checks of rendered clips, for the synth a subclass names."""
    synth = None

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="continuo-train-data-")
        cls.soundfont = render.soundfont_path()
        print(f"{cls.synth}, soundfont {cls.soundfont}", flush=True)
        # One clip of every style: styles take turns, so 12 clips are the 12 styles.
        cls.dir = os.path.join(cls.tmp, "a")
        result = build(cls.dir, "--clips", str(len(styles.STYLES)), "--seconds", str(SECONDS),
                       "--seed", str(SEED), "--jobs", "2", "--clips-per-shard", "5", "--synth", cls.synth)
        print(result.stderr, end="", flush=True)
        if result.returncode != 0:
            raise AssertionError(f"build.py failed: {result.stderr}")
        cls.manifest, cls.clips = load(cls.dir)
        assert cls.manifest["synth"] == cls.synth and cls.synth in cls.manifest["versions"], cls.manifest

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_every_style_renders_audible_stereo(self):
        self.assertEqual(sorted(int(c["style"]) for c in self.clips.values()), list(range(len(styles.STYLES))))
        self.assertEqual(self.manifest["style_counts"], {name: 1 for name in styles.NAMES})
        for index, clip in self.clips.items():
            name = styles.NAMES[int(clip["style"])]
            with self.subTest(style=name):
                audio = clip["audio"]
                self.assertEqual(audio.shape, (SECONDS * 48000, 2))
                self.assertEqual(audio.dtype, np.int16)
                frames = frame_rms_db(audio)
                total = 10 * np.log10(np.mean(10 ** (frames / 10)))
                self.assertTrue(-28 < total < -12, f"{name}: {total:.1f} dBFS RMS")
                self.assertGreater(np.mean(frames > -60), 0.9, f"{name}: silent frames {frames.round()}")
                self.assertLess(np.abs(audio.astype(np.int32)).max(), 32500, f"{name}: clipped")
                self.assertGreater(np.abs(audio[:, 0].astype(np.int32) - audio[:, 1]).max(), 0,
                                   f"{name}: left and right are identical")

    def test_labels_have_the_mrt2_shape_and_values(self):
        for clip in self.clips.values():
            self.assertEqual(clip["notes"].shape, (FRAMES, 128))
            self.assertEqual(clip["notes"].dtype, np.uint8)
            self.assertEqual(clip["drums"].shape, (FRAMES,))
            self.assertLessEqual(set(np.unique(clip["notes"])), {0, 1, 2})
            self.assertLessEqual(set(np.unique(clip["drums"])), {0, 1})
            self.assertGreater((clip["notes"] == 2).sum(), 0)
            self.assertGreater((clip["notes"] > 0).any(axis=1).mean(), 0.6)  # music most of the time (stabs leave gaps)

    def test_same_seed_same_bytes_whatever_jobs_and_shards(self):
        again = os.path.join(self.tmp, "again")
        result = build(again, "--clips", "2", "--seconds", str(SECONDS), "--seed", str(SEED),
                       "--jobs", "1", "--clips-per-shard", "1", "--synth", self.synth)
        self.assertEqual(result.returncode, 0, result.stderr)
        manifest, found = load(again)
        self.assertEqual(len(manifest["shards"]), 2)
        for index in (0, 1):
            for field in ("audio", "notes", "drums", "caption", "style", "meta"):
                self.assertEqual(found[index][field].tobytes(), self.clips[index][field].tobytes(),
                                 f"clip {index} {field}")

    def test_different_seeds_differ(self):
        other = os.path.join(self.tmp, "other")
        result = build(other, "--clips", "1", "--seconds", str(SECONDS), "--seed", str(SEED + 1), "--synth", self.synth)
        self.assertEqual(result.returncode, 0, result.stderr)
        _, found = load(other)
        self.assertNotEqual(found[0]["audio"].tobytes(), self.clips[0]["audio"].tobytes())
        self.assertNotEqual(found[0]["notes"].tobytes(), self.clips[0]["notes"].tobytes())
        pieces = [compose.compose(styles.STYLES[0], np.random.default_rng(seed), 48000 * 8) for seed in (1, 2)]
        self.assertNotEqual(pieces[0].notes, pieces[1].notes)

    def test_onset_label_and_sound_share_a_frame(self):
        # Piano C4 struck at the start, the middle and the last 20 samples of a frame: the
        # label says onset in that frame, held after, off after the note-off; the rendered
        # sound starts in that frame (FluidSynth adds up to 2 ms, so a note struck in the
        # last 2 ms of a frame may sound from the next one: never a frame early, never two late;
        # tinysoundfont adds nothing).
        f = labels.FRAME_SAMPLES
        struck = [(10, 0), (40, f // 2), (70, f - 20)]
        notes = [compose.Note(0, 60, 100, frame * f + offset, frame * f + offset + 8 * f) for frame, offset in struck]
        samples = 100 * f
        states = labels.note_states(notes, 0, samples)
        audio = render.render(smf.midi_bytes({0: 0}, {0: {91: 0, 93: 0}}, notes, samples),
                              self.soundfont, 0, samples, clips.RENDER_GAIN, self.synth)
        energy = frame_rms_db(np.round(audio * 32767).astype(np.int16))
        for frame, offset in struck:
            with self.subTest(frame=frame, offset=offset):
                self.assertEqual(states[frame, 60], labels.ONSET)
                self.assertEqual(states[frame - 1, 60], labels.OFF)
                last = -(-(frame * f + offset + 8 * f) // f) - 1
                self.assertTrue((states[frame + 1:last + 1, 60] == labels.HELD).all())
                self.assertEqual(states[last + 1, 60], labels.OFF)
                self.assertEqual(np.count_nonzero(states[:, np.arange(128) != 60]), 0)
                before = energy[frame - 1]
                rises = np.nonzero(energy[frame - 1:frame + 3] > before + 20)[0]
                self.assertTrue(len(rises) > 0, f"no attack near frame {frame}: {energy[frame - 2:frame + 3]}")
                sounding_from = frame - 1 + rises[0]
                allowed = (frame,) if offset < f - 2 * 48 or self.synth == "tinysoundfont" else (frame, frame + 1)
                self.assertIn(sounding_from, allowed, f"energy {energy[frame - 2:frame + 3].round(1)}")

    def test_onsets_line_up_with_the_audio_of_every_style(self):
        # Spectral flux (how much the spectrum rises, summed per frame) against the number
        # of onsets labelled in each frame, at frame lags -2..2: the labels describe the
        # audio only if the correlation peaks at lag 0.
        lags = range(-2, 3)
        total = np.zeros(len(lags))
        for clip in self.clips.values():
            flux = spectral_flux(clip["audio"])
            onsets = (clip["notes"] == labels.ONSET).sum(axis=1).astype(np.float64)
            flux = (flux - flux.mean()) / flux.std()
            onsets = (onsets - onsets.mean()) / (onsets.std() + 1e-9)
            n = len(onsets)
            total += [np.mean(flux[2 + lag:n - 2 + lag] * onsets[2:n - 2]) for lag in lags]
        total /= len(self.clips)
        print(f"onset/flux correlation at lags -2..2: {total.round(2)}", flush=True)
        self.assertEqual(int(np.argmax(total)), 2, f"correlation at lags -2..2: {total.round(2)}")
        self.assertGreater(total[2], 0.3, f"correlation at lags -2..2: {total.round(2)}")

    def test_captions_name_the_style(self):
        for clip in self.clips.values():
            caption = str(clip["caption"])
            meta = json.loads(str(clip["meta"]))
            self.assertIn(styles.NAMES[int(clip["style"])], caption)
            self.assertEqual(meta["style"], styles.NAMES[int(clip["style"])])
            # A caption that lists instruments lists every part the clip plays.
            mentioned = [word for word in meta["instruments"] if word in caption]
            if mentioned:
                self.assertEqual(mentioned, meta["instruments"], caption)
        piece = compose.compose(styles.STYLES[1], np.random.default_rng(5), 48000 * 8)
        heard = captions.instruments_heard(piece, 0, 48000 * 8, np.ones(200, np.uint8))
        written = {captions.caption(piece, heard, np.random.default_rng(seed)) for seed in range(40)}
        self.assertGreaterEqual(len(written), 6, "captions should come in several phrasings")
        self.assertTrue(all(styles.NAMES[1] in c for c in written))
        self.assertTrue(any(f"{piece.bpm} bpm" in c.lower() for c in written))



class FluidSynthData(RenderedData, unittest.TestCase):
    synth = "fluidsynth"

    def test_bad_arguments_are_refused_before_rendering(self):
        out = os.path.join(self.tmp, "refused")
        cases = [(["--clips", "0", "--seconds", "4", "--seed", "1"], "--clips must be at least 1"),
                 (["--clips", "1", "--seconds", "1.01", "--seed", "1"], "multiple of 0.04"),
                 (["--clips", "1", "--seconds", "-0.04", "--seed", "1"], "multiple of 0.04"),
                 (["--clips", "1", "--seconds", "4", "--seed", "-3"], "--seed must be 0 or more"),
                 (["--clips", "1", "--seconds", "4", "--seed", "1", "--jobs", "0"], "--jobs must be at least 1")]
        for args, message in cases:
            with self.subTest(args=args):
                result = build(out, *args)
                self.assertEqual(result.returncode, 2)
                self.assertIn(message, result.stderr)
        result = build(self.dir, "--clips", "1", "--seconds", "4", "--seed", "1")
        self.assertEqual(result.returncode, 2)
        self.assertIn("already holds a dataset", result.stderr)
        self.assertFalse(os.path.exists(out))

    def test_missing_soundfont_or_fluidsynth_says_how_to_install(self):
        out = os.path.join(self.tmp, "missing")
        result = build(out, "--clips", "1", "--seconds", "4", "--seed", "1", "--soundfont", "/nonexistent/gm.sf2")
        self.assertEqual(result.returncode, 2)
        self.assertIn("soundfont /nonexistent/gm.sf2 does not exist", result.stderr)
        self.assertIn("sudo apt-get install fluidsynth fluid-soundfont-gm", result.stderr)
        not_a_soundfont = os.path.join(self.tmp, "notes.sf2")
        with open(not_a_soundfont, "w") as f:
            f.write("not a soundfont")  # FluidSynth would warn and render silence
        result = build(out, "--clips", "1", "--seconds", "4", "--seed", "1", "--soundfont", not_a_soundfont)
        self.assertEqual(result.returncode, 2)
        self.assertIn("is not a SoundFont 2 (.sf2/.sf3) file", result.stderr)
        empty = tempfile.mkdtemp(dir=self.tmp)
        result = build(out, "--clips", "1", "--seconds", "4", "--seed", "1", env={**os.environ, "PATH": empty})
        self.assertEqual(result.returncode, 2)
        self.assertIn("fluidsynth is not installed", result.stderr)
        self.assertIn("sudo apt-get install fluidsynth", result.stderr)
        self.assertFalse(os.path.exists(os.path.join(out, "manifest.json")))

    @unittest.skipIf(has_tinysoundfont(), "this interpreter has tinysoundfont")
    def test_missing_tinysoundfont_says_how_to_install(self):
        result = build(os.path.join(self.tmp, "no-tsf"), "--clips", "1", "--seconds", "4", "--seed", "1",
                       "--synth", "tinysoundfont")
        self.assertEqual(result.returncode, 2)
        self.assertIn("tinysoundfont is not installed", result.stderr)
        self.assertIn("pip install --no-deps tinysoundfont", result.stderr)


@unittest.skipUnless(has_tinysoundfont(), "tinysoundfont is not installed for this interpreter "
                     "(.venv-train/bin/python runs these)")
class TinySoundFontData(RenderedData, unittest.TestCase):
    synth = "tinysoundfont"

    def test_a_clip_renders_the_same_after_others(self):
        # render.py keeps one synth per process and resets the channels each clip used.
        first = clips.make(SEED, 0, 48000, self.soundfont, self.synth).audio
        for other in (3, 5):
            clips.make(SEED, other, 48000, self.soundfont, self.synth)
        self.assertEqual(clips.make(SEED, 0, 48000, self.soundfont, self.synth).audio.tobytes(), first.tobytes())


class Labels(unittest.TestCase):
    def test_labels_of_a_window(self):
        f = labels.FRAME_SAMPLES
        notes = [compose.Note(0, 50, 90, 0, 10 * f),             # before the window, ends inside it
                 compose.Note(1, 40, 90, 6 * f, 6 * f + 100),     # shorter than a frame
                 compose.Note(1, 40, 90, 6 * f + 200, 9 * f),     # struck again in the same frame
                 compose.Note(gm.DRUM_CHANNEL, 36, 90, 7 * f, 8 * f)]  # drums are no note state
        states = labels.note_states(notes, 5 * f, 10 * f)
        self.assertEqual(list(states[:, 50]), [1, 1, 1, 1, 1, 0, 0, 0, 0, 0])
        self.assertEqual(list(states[:, 40]), [0, 2, 1, 1, 0, 0, 0, 0, 0, 0])
        self.assertEqual(np.count_nonzero(states[:, 36]), 0)
        with self.assertRaises(ValueError):
            labels.note_states(notes, 0, f + 1)

    def test_drum_flag_follows_the_drum_part(self):
        f = labels.FRAME_SAMPLES
        for index, style in enumerate(styles.STYLES):
            for seed in range(3):
                piece = compose.compose(style, np.random.default_rng(100 * index + seed), 48000 * 24)
                flags = labels.drum_flags(piece.drum_spans, 0, 600 * f)
                hit_frames = {n.start // f for n in piece.notes if n.channel == gm.DRUM_CHANNEL and n.start < 600 * f}
                with self.subTest(style=style.name, seed=seed):
                    if not style.drum_kits:
                        self.assertEqual(flags.sum(), 0)
                        self.assertEqual(hit_frames, set())
                        continue
                    self.assertTrue(all(flags[h] for h in hit_frames), "a drum hit in a frame flagged 0")
                    # Every run of 1s holds hits, and no run has a gap of a bar without one.
                    bar_frames = 60 / piece.bpm * piece.beats_per_bar * 25
                    hits = np.array(sorted(hit_frames))
                    for start, end in self.runs(flags):
                        inside = hits[(hits >= start) & (hits < end)]
                        self.assertGreater(len(inside), 0, f"drum flag on in frames {start}..{end} with no hit")
                        gaps = np.diff(np.concatenate([[start], inside, [end]]))
                        self.assertLessEqual(gaps.max(), bar_frames + 2)

    @staticmethod
    def runs(flags):
        edges = np.diff(np.concatenate([[0], flags.astype(int), [0]]))
        return list(zip(np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]))


if __name__ == "__main__":
    if shutil.which("fluidsynth") is None:
        print("SKIP: fluidsynth is not installed (sudo apt-get install fluidsynth fluid-soundfont-gm, or make deps)")
        sys.exit(77)
    unittest.main(verbosity=2)
