"""Writes the .pt files that TorchCheckpointsPythonTest reads, with Python's own torch.save.

Run with any PyTorch (these were written by 1.13.1, Debian's python3-torch):
    python3 make_fixtures.py
Every value is a function of its position, so the test can check each element without a copy of this file.
"""
import argparse

import torch
from torch import nn


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(3, 2)
        self.norm = nn.LayerNorm(2)
        self.register_buffer("steps", torch.tensor(7, dtype=torch.int64))

    def forward(self, x):
        return self.norm(self.proj(x))


def ramp(*shape, scale=0.25, dtype=torch.float32):
    return (torch.arange(torch.Size(shape).numel(), dtype=torch.float64) * scale - 1).reshape(shape).to(dtype)


def tiny(shift):
    m = Tiny()
    with torch.no_grad():
        m.proj.weight.copy_(ramp(2, 3) + shift)
        m.proj.bias.copy_(ramp(2) + shift)
        m.norm.weight.copy_(ramp(2, scale=2) + shift)
        m.norm.bias.copy_(ramp(2, scale=3) + shift)
    return m


# 1. model.state_dict(): an OrderedDict with a _metadata attribute.
torch.save(tiny(0).state_dict(), "state-dict.pt")

# 1b. The same with pickle protocols 4 and 5 (FRAME, MEMOIZE, STACK_GLOBAL, SHORT_BINUNICODE).
torch.save(tiny(0).state_dict(), "state-dict-protocol4.pt", pickle_protocol=4)
torch.save(tiny(0).state_dict(), "state-dict-protocol5.pt", pickle_protocol=5)

# 2. A DiT train.py checkpoint: model, ema, optimizer state and the argparse Namespace.
model, ema = tiny(0), tiny(10)
opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0)
model(torch.ones(1, 3)).sum().backward()
opt.step()
args = argparse.Namespace(model="DiT-S/2", image_size=256, num_classes=1000, epochs=1400)
torch.save({"model": model.state_dict(), "ema": ema.state_dict(), "opt": opt.state_dict(), "args": args},
           "training-checkpoint.pt")

# 3. Parameters, dtypes, views sharing one storage, a transposed (non-contiguous) tensor.
base = ramp(3, 4)
torch.save({
    "param": nn.Parameter(ramp(2, 2)),
    "bf16": ramp(5, dtype=torch.bfloat16),
    "half": ramp(5, dtype=torch.float16),
    "double": ramp(2, dtype=torch.float64),
    "int32": torch.arange(4, dtype=torch.int32) - 2,
    "bool": torch.tensor([True, False, True]),
    "row": base[1],
    "column": base[:, 2],
    "transposed": base.t(),
    "scalar": torch.tensor(2.5),
    "empty": torch.zeros(0, 3),
}, "tensors.pt")
