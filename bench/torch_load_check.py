#!/usr/bin/env python3
"""Loads a charrnn checkpoint into PyTorch and evaluates it, to check the format end to end.

    python3 bench/torch_load_check.py CHECKPOINT TEXT_FILE [--expect NATS] [--batch 50] [--seq 100]

Builds nn.Embedding + nn.LSTM/GRU/RNN (or the Mut module below for mut1/mut2/mut3) + nn.Linear
from the checkpoint's metadata, loads the tensors with safetensors.torch.load_file +
load_state_dict(strict=True), and prints the mean
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


class Mut(torch.nn.Module):
    """MUT1/2/3 (Jozefowicz, Zaremba, Sutskever 2015) on charrnn's tensors rnn.{weight,bias}_{ih,hh}_l{l}.

    W_ih rows (blocks of H): MUT1 z,r  MUT2 z,n  MUT3 z,r,n; W_hh rows: MUT1 r,n  MUT2/3 z,r,n.
    Input [T, B, E], state [L, B, H] (zeros when None); returns the top layer's [T, B, H] and the state.
    """
    IN, REC = {1: "zr", 2: "zn", 3: "zrn"}, {1: "rn", 2: "zrn", 3: "zrn"}

    def __init__(self, variant, E, H, L):
        super().__init__()
        self.v, self.H, self.L = variant, H, L
        gi, gh = len(self.IN[variant]), len(self.REC[variant])
        for l in range(L):
            for name, shape in (("weight_ih", (gi * H, E if l == 0 else H)), ("weight_hh", (gh * H, H)),
                                ("bias_ih", (gi * H,)), ("bias_hh", (gh * H,))):
                setattr(self, f"{name}_l{l}", torch.nn.Parameter(torch.empty(shape)))

    def forward(self, x, h=None):
        v, H, sig = self.v, self.H, torch.sigmoid
        last = []
        for l in range(self.L):
            p = lambda name: getattr(self, f"{name}_l{l}")
            gx = dict(zip(self.IN[v], (x @ p("weight_ih").T + p("bias_ih")).split(H, dim=-1)))
            U = dict(zip(self.REC[v], zip(p("weight_hh").split(H), p("bias_hh").split(H))))
            rec = lambda g, u: u @ U[g][0].T + U[g][1]
            ht = h[l] if h is not None else x.new_zeros(x.shape[1], H)
            out = []
            for t in range(x.shape[0]):
                if v == 1:
                    z, r, c = sig(gx["z"][t]), sig(gx["r"][t] + rec("r", ht)), torch.tanh(x[t])
                elif v == 2:
                    z, r, c = sig(gx["z"][t] + rec("z", ht)), sig(x[t] + rec("r", ht)), gx["n"][t]
                else:
                    z, r, c = sig(gx["z"][t] + rec("z", torch.tanh(ht))), sig(gx["r"][t] + rec("r", ht)), gx["n"][t]
                ht = torch.tanh(rec("n", r * ht) + c) * z + ht * (1 - z)
                out.append(ht)
            x = torch.stack(out)
            last.append(ht)
        return x, torch.stack(last)


class CharRNN(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embedding = torch.nn.Embedding(c["vocab_size"], c["embedding"])
        if c["cell"].startswith("mut"):
            self.rnn = Mut(int(c["cell"][3]), c["embedding"], c["hidden"], c["layers"])
        else:
            rnn = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[c["cell"]]
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
