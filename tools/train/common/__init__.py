"""Utilities shared by the training scripts (train_codec.py, train_lm.py, tokenize_dataset.py):

  dataset.Shards       the clips of a tools/train/data/build.py dataset, memory-mapped
  progress.Progress    step, losses, rates and ETA on stderr
  state                save_training_state / load_training_state: resumable checkpoints
  cli                  --set parsing, refusals (exit 2) before any compute, stop on SIGINT/SIGTERM
"""
