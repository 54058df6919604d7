"""PyTorch definitions of continuo's Magenta RealTime 2 family models (training side).

Modules read and write the official raw-checkpoint layout through `checkpoint`
(safetensors, "/"-joined flax paths), so tools/convert_mrt2.py packages what they train.
"""
