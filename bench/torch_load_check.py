#!/usr/bin/env python3
"""Loads a charrnn checkpoint into PyTorch and evaluates it, to check the format end to end.

    python3 bench/torch_load_check.py CHECKPOINT TEXT_FILE [--expect NATS] [--batch 50] [--seq 100]

Builds nn.Embedding + nn.LSTM/GRU/RNN + nn.Linear from the checkpoint's metadata, loads the
tensors with safetensors.torch.load_file + load_state_dict(strict=True), and prints the mean
cross-entropy (nats/char) over TEXT_FILE, computed exactly as `charrnn eval --batch B --seq T`
does (B contiguous streams, windows of T, zero initial state). With --expect, exits 1 unless the
two agree within 1e-4 relative (float32 vs the Java backend).
"""
import argparse
import json
import sys

import torch
from safetensors import safe_open
from safetensors.torch import load_file


class CharRNN(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        rnn = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[c["cell"]]
        self.embedding = torch.nn.Embedding(c["vocab_size"], c["embedding"])
        self.rnn = rnn(c["embedding"], c["hidden"], c["layers"])  # input [T, B, E]
        self.decoder = torch.nn.Linear(c["hidden"], c["vocab_size"])

    def forward(self, x, h=None):
        y, h = self.rnn(self.embedding(x), h)
        return self.decoder(y), h


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("checkpoint")
    ap.add_argument("text")
    ap.add_argument("--expect", type=float)
    ap.add_argument("--batch", type=int, default=50)
    ap.add_argument("--seq", type=int, default=100)
    a = ap.parse_args()

    with safe_open(a.checkpoint, "pt") as f:
        meta = f.metadata()
    cfg = json.loads(meta["model"])
    vocab = json.loads(meta["vocabulary"])
    model = CharRNN(cfg)
    model.load_state_dict(load_file(a.checkpoint), strict=True)
    model.eval()

    raw = open(a.text, "rb").read()
    symbols = list(raw) if vocab["encoding"] == "bytes" else [ord(ch) for ch in raw.decode("utf-8")]
    index = {s: i for i, s in enumerate(vocab["symbols"])}
    unk = len(vocab["symbols"]) if vocab["unknown"] else None
    ids = torch.tensor([index.get(s, unk) for s in symbols], dtype=torch.long)

    n = len(ids)
    B = max(1, min(a.batch, n - 1))
    S = (n - 1) // B
    total, count, h = 0.0, 0, None
    with torch.no_grad():
        for pos in range(0, S, a.seq):
            T = min(a.seq, S - pos)
            x = torch.stack([ids[b * S + pos: b * S + pos + T] for b in range(B)], dim=1)
            y = torch.stack([ids[b * S + pos + 1: b * S + pos + T + 1] for b in range(B)], dim=1)
            logits, h = model(x, h)
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, cfg["vocab_size"]), y.reshape(-1), reduction="sum")
            total += loss.item()
            count += T * B
    nats = total / count
    print(json.dumps({"checkpoint": a.checkpoint, "nats_per_char": nats, "predictions": count}))
    if a.expect is not None and abs(nats - a.expect) > 1e-4 * abs(a.expect) + 1e-6:
        print(f"MISMATCH: PyTorch {nats:.6f} vs charrnn {a.expect:.6f}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
