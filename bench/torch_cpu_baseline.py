#!/usr/bin/env python3
"""Times PyTorch char-rnn training steps on the CPU, for comparison with charrnn's CPU backends.

The same step as ../shared/device/torch_baseline.py (the GPU baseline) and `charrnn bench`:
embedding (E = H) -> nn.LSTM/nn.GRU/nn.RNN stack -> linear decoder -> cross-entropy -> backward ->
global-norm clip 5 -> Adam, on random tokens of a 65-symbol vocabulary. The CPU runs synchronously,
so each step is timed with perf_counter around it; the median and minimum of --steps after --warmup
are reported. Prints one JSON line per row with torch_baseline.py's fields (impl "pytorch-cpu"), so
bench/compare joins it with `charrnn bench --json` rows.

    python3 bench/torch_cpu_baseline.py --grid torch-rnn --max-hidden 256 --threads 2
    python3 bench/torch_cpu_baseline.py --cell gru --layers 2 --hidden 128
"""
import argparse
import json
import platform
import statistics
import time

import torch

TORCH_RNN = [("lstm", l, h, 50, 50) for l in (1, 2, 3) for h in (64, 128, 256, 512)]


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "cpu"


def time_step(cell, layers, hidden, batch, seq, vocab, steps, warmup, clip):
    rnn_cls = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[cell]
    emb = torch.nn.Embedding(vocab, hidden)
    rnn = rnn_cls(hidden, hidden, layers)
    dec = torch.nn.Linear(hidden, vocab)
    params = [*emb.parameters(), *rnn.parameters(), *dec.parameters()]
    opt = torch.optim.Adam(params, lr=2e-3)
    x = torch.randint(0, vocab, (seq, batch))
    y = torch.randint(0, vocab, (seq, batch))

    def step():
        opt.zero_grad(set_to_none=True)
        out, _ = rnn(emb(x))
        loss = torch.nn.functional.cross_entropy(dec(out).view(-1, vocab), y.view(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, clip)
        opt.step()
        return loss

    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        loss = step()
        times.append((time.perf_counter() - t0) * 1000)
    if not torch.isfinite(loss):
        raise SystemExit(f"non-finite loss in {cell} L{layers} H{hidden}")
    return statistics.median(times), min(times)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cell", default="lstm"); p.add_argument("--layers", type=int, default=2)
    p.add_argument("--hidden", type=int, default=128); p.add_argument("--batch", type=int, default=50)
    p.add_argument("--seq", type=int, default=50); p.add_argument("--vocab", type=int, default=65)
    p.add_argument("--steps", type=int, default=10); p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--clip", type=float, default=5.0); p.add_argument("--threads", type=int, default=0,
                                                                     help="torch.set_num_threads (0: torch's default)")
    p.add_argument("--grid", choices=["torch-rnn"]); p.add_argument("--max-hidden", type=int, default=0)
    a = p.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    rows = TORCH_RNN if a.grid else [(a.cell, a.layers, a.hidden, a.batch, a.seq)]
    if a.max_hidden > 0:
        rows = [r for r in rows if r[2] <= a.max_hidden]
    for cell, layers, hidden, batch, seq in rows:
        ms, ms_min = time_step(cell, layers, hidden, batch, seq, a.vocab, a.steps, a.warmup, a.clip)
        print(json.dumps({"impl": "pytorch-cpu", "torch": torch.__version__, "device": cpu_name(),
                          "threads": torch.get_num_threads(), "cell": cell, "layers": layers, "hidden": hidden,
                          "batch": batch, "seq": seq, "tf32": False, "steps": a.steps, "warmup": a.warmup,
                          "ms_per_step": round(ms, 3), "ms_min": round(ms_min, 3),
                          "chars_per_s": round(batch * seq / ms * 1000)}), flush=True)


if __name__ == "__main__":
    main()
