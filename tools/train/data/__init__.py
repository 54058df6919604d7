"""Training data for the bundled model: procedural pieces rendered with FluidSynth, with
per-frame note state, drum flag and a caption (docs/training-data.md)."""
