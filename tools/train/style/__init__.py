"""The text tower: text -> 768-d style embedding -> 12 RVQ style tokens (docs/text-tower.md).

text_words: the tokenization and hashed character n-grams, byte for byte as model/text_words.cpp.
text_tower: the PyTorch module, its blend and quantizer, as model/text_tower.cpp.
tower_files: the package files (text_tower.safetensors, text_vocab.txt, the [text_tower] section).
training: training on captions and fitting the RVQ codebooks (tools/train/train_text_tower.py).
"""
