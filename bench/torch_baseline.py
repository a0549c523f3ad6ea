#!/usr/bin/env python3
"""PyTorch's side of `charrnn bench`: times the same whole training step with PyTorch's own modules.

One step, as org.charrnn.bench.BenchRunner runs it: embedding (E = H) -> nn.LSTM / nn.GRU / nn.RNN
stack (cuDNN on CUDA) -> linear decoder -> mean softmax cross-entropy -> backward -> global-norm clip
5 -> Adam (lr 2e-3), over [T, B] windows of seeded random tokens of a 65-symbol vocabulary held on
the device. Windows advance through the tokens as in training and carry the recurrent state (reset
when the tokens wrap after 64 windows), all on the device, so a step can be captured as a CUDA graph.
Parameters start as charrnn's do (PyTorch's default initialisation, LSTM forget-gate bias 1).

After --warmup untimed steps and a device synchronization, each of --steps steps is timed on its
own: CUDA events around the step, then a synchronize (CUDA); perf_counter around it (CPU, which runs
synchronously). Prints one JSON line per row with the fields of `charrnn bench --json` that mean the
same (impl, device, precision, tf32, graph, cell, layers, hidden, embedding, vocab, batch, seq,
steps, warmup, ms_per_step = median, ms_min, chars_per_s, peak_mem_mib, mem_kind, date), so
`bench/compare` and `charrnn bench --chart` join them with ours on cell, layers, hidden, batch, seq.

  --device cuda|cpu|auto   auto: cuda when PyTorch sees a GPU, else cpu
  --graph 0|1              1: capture the whole step as one CUDA graph (Adam capturable) and time
                           its replays (impl "pytorch-cudagraph"; eager is "pytorch", CPU "pytorch-cpu")
  --tf32 0|1               TF32 in cuBLAS and cuDNN (CUDA only; 0 forces IEEE fp32, which cuDNN RNNs
                           would otherwise not use by default)
  --grid torch-rnn|large|all, --model/--layers/--hidden/--batch/--seq (comma lists) select rows
  exactly as `charrnn bench` does; --list prints the selected rows without running (or importing) torch.

Peak memory: CUDA, torch.cuda.max_memory_allocated over the whole row (graph pool included; mem_kind
"device"); CPU, the process's peak resident set size so far (mem_kind "rss": it includes Python and
the torch libraries and never goes down from one row to the next).

    python3 bench/torch_baseline.py --device cuda --grid all --graph 1 --tf32 0 >> torch.jsonl
    python3 bench/torch_baseline.py --device cpu --grid torch-rnn --max-hidden 256 --threads 2
    bench/compare ours.jsonl torch.jsonl
"""
import argparse
import datetime
import gc
import json
import math
import platform
import statistics
import sys
import time

PROG = "torch_baseline.py"
VOCAB = 65  # tiny-shakespeare's vocabulary, as org.charrnn.bench.BenchSpec.VOCAB
LR = 2e-3
CLIP = 5.0
MAX_WINDOWS = 64  # windows per stream before the tokens wrap, as BenchRunner.MAX_WINDOWS
CELLS = ("lstm", "gru", "rnn")
ALL_CELLS = CELLS + ("mut1", "mut2", "mut3")

# The grids of org.charrnn.bench.Grids, row for row (cell, layers, hidden, batch, seq).
TORCH_RNN = [("lstm", l, h, 50, 50) for l in (1, 2, 3) for h in (64, 128, 256, 512)]
LARGE = [("lstm", 3, 512, 128, 100), ("lstm", 2, 1024, 128, 100), ("gru", 2, 256, 50, 50), ("rnn", 2, 256, 50, 50)]
GRIDS = {"torch-rnn": TORCH_RNN, "large": LARGE, "all": TORCH_RNN + LARGE}


class UsageError(Exception):
    """Bad input: one line on stderr, exit 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def positive_list(name):
    def parse(text):
        try:
            values = [int(v) for v in text.split(",")]
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} takes comma-separated integers, got '{text}'") from None
        for v in values:
            if v < 1:
                raise argparse.ArgumentTypeError(f"{name} must be >= 1, got {v}")
        return values
    return parse


def cell_list(text):
    cells = [c.strip().lower() for c in text.split(",")]
    for c in cells:
        if c not in ALL_CELLS:
            raise argparse.ArgumentTypeError(f"unknown cell '{c}' (expected one of {', '.join(ALL_CELLS)})")
    return cells


def switch(name):
    def parse(text):
        if text not in ("0", "1"):
            raise argparse.ArgumentTypeError(f"{name} takes 0 or 1, got '{text}'")
        return text == "1"
    return parse


def parse_args(argv):
    p = Parser(prog=PROG, description="Times PyTorch training steps matching `charrnn bench` (one JSON line per row).")
    p.add_argument("--device", choices=["auto", "cuda", "cpu"], default="auto",
                   help="cuda (cuDNN), cpu, or auto: cuda when available (default auto)")
    p.add_argument("--grid", choices=sorted(GRIDS), help="a grid of `charrnn bench`; the lists below filter its rows")
    p.add_argument("--model", "--cell", dest="model", type=cell_list, help="lstm | gru | rnn, comma list (default lstm)")
    p.add_argument("--layers", type=positive_list("--layers"), help="comma list (default 2)")
    p.add_argument("--hidden", type=positive_list("--hidden"), help="H = E, comma list (default 128)")
    p.add_argument("--batch", type=positive_list("--batch"), help="comma list (default 50)")
    p.add_argument("--seq", type=positive_list("--seq"), help="comma list (default 50)")
    p.add_argument("--max-hidden", type=int, default=0, help="drop rows with H above this (0: keep all)")
    p.add_argument("--steps", type=int, default=30, help="timed steps per row (default 30)")
    p.add_argument("--warmup", type=int, default=8, help="untimed steps before them (default 8)")
    p.add_argument("--graph", type=switch("--graph"), default=False, help="0 eager (default), 1 whole-step CUDA graph")
    p.add_argument("--tf32", type=switch("--tf32"), default=False, help="0 IEEE fp32 (default), 1 TF32 (CUDA only)")
    p.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: PyTorch's default)")
    p.add_argument("--seed", type=int, default=42, help="seed of the parameters and tokens (default 42)")
    p.add_argument("--list", action="store_true", help="print the selected rows as JSON lines and exit")
    p.add_argument("--debug", action="store_true", help="show the traceback of a failure")
    a = p.parse_args(argv)
    if a.steps < 1:
        raise UsageError(f"--steps must be >= 1, got {a.steps}")
    if a.warmup < 0:
        raise UsageError(f"--warmup must be >= 0, got {a.warmup}")
    if a.threads < 0 or a.max_hidden < 0:
        raise UsageError("--threads and --max-hidden must be >= 0")
    return a


def rows(a):
    """The selected (cell, layers, hidden, batch, seq) rows, as `charrnn bench` selects them."""
    if a.grid:
        def keep(values, v):
            return values is None or v in values
        out = [r for r in GRIDS[a.grid] if keep(a.model, r[0]) and keep(a.layers, r[1]) and keep(a.hidden, r[2])
               and keep(a.batch, r[3]) and keep(a.seq, r[4])]
    else:
        out = [(c, l, h, b, t) for c in a.model or ["lstm"] for l in a.layers or [2] for h in a.hidden or [128]
               for b in a.batch or [50] for t in a.seq or [50]]
    if a.max_hidden > 0:
        out = [r for r in out if r[2] <= a.max_hidden]
    if not out:
        raise UsageError(f"no configuration of grid '{a.grid}' matches the given filters" if a.grid
                         else "no configuration matches --max-hidden")
    for r in out:
        if r[0] not in CELLS:
            raise UsageError(f"PyTorch has no {r[0]} module: the baseline covers {', '.join(CELLS)}")
    return out


def label(row):
    cell, layers, hidden, batch, seq = row
    return f"{cell} L{layers} H{hidden} B{batch} T{seq}"


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "cpu"


def peak_rss_bytes():
    import resource
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, KiB elsewhere


def set_tf32(torch, on):
    """TF32 on or off for cuBLAS and cuDNN (convolutions and RNNs), through one API only."""
    b = torch.backends
    if hasattr(b.cuda.matmul, "fp32_precision"):  # PyTorch >= 2.9 refuses a mix of this and allow_tf32
        mode = "tf32" if on else "ieee"
        b.cuda.matmul.fp32_precision = mode
        b.cudnn.conv.fp32_precision = mode
        b.cudnn.rnn.fp32_precision = mode
    else:
        b.cuda.matmul.allow_tf32 = on
        b.cudnn.allow_tf32 = on


class Step:
    """The model, optimizer, on-device tokens and carried state of one row, and its training step."""

    def __init__(self, torch, row, device, graph, seed, windows):
        cell, layers, hidden, batch, seq = row
        self.torch, self.cell, self.seq, self.windows, self.graph = torch, cell, seq, windows, graph
        nn = torch.nn
        torch.manual_seed(seed)
        self.emb = nn.Embedding(VOCAB, hidden).to(device)
        self.rnn = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[cell](hidden, hidden, layers).to(device)
        self.dec = nn.Linear(hidden, VOCAB).to(device)
        if cell == "lstm":  # charrnn's init: forget-gate bias 1 in total (b_ih = 1, b_hh = 0)
            with torch.no_grad():
                for k in range(layers):
                    getattr(self.rnn, f"bias_ih_l{k}")[hidden:2 * hidden].fill_(1.0)
                    getattr(self.rnn, f"bias_hh_l{k}")[hidden:2 * hidden].zero_()
        self.params = [*self.emb.parameters(), *self.rnn.parameters(), *self.dec.parameters()]
        self.opt = torch.optim.Adam(self.params, lr=LR, capturable=graph)
        gen = torch.Generator().manual_seed(seed)
        per_stream = windows * seq + 1
        self.tokens = torch.randint(0, VOCAB, (batch, per_stream), generator=gen).to(device)
        self.offsets = torch.arange(seq + 1, device=device)
        self.window = torch.zeros((), dtype=torch.long, device=device)  # index of the next window
        n_state = 2 if cell == "lstm" else 1
        self.state = [torch.zeros(layers, batch, hidden, device=device) for _ in range(n_state)]

    def __call__(self):
        torch = self.torch
        self.opt.zero_grad(set_to_none=not self.graph)  # a graph needs its gradients where they were
        win = self.tokens.index_select(1, self.window * self.seq + self.offsets)  # [B, T+1]
        x, y = win[:, :-1].t(), win[:, 1:].t()
        keep = (self.window != 0).to(self.state[0].dtype)  # the state resets when the tokens wrap
        h0 = [s * keep for s in self.state]
        out, hn = self.rnn(self.emb(x), tuple(h0) if self.cell == "lstm" else h0[0])
        loss = torch.nn.functional.cross_entropy(self.dec(out).reshape(-1, VOCAB), y.reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.params, CLIP)
        self.opt.step()
        with torch.no_grad():
            for s, h in zip(self.state, hn if self.cell == "lstm" else (hn,)):
                s.copy_(h)
            self.window.copy_((self.window + 1) % self.windows)
        return loss


def time_row(torch, row, a, device):
    """(median ms, min ms, peak bytes) of one row."""
    cuda = device == "cuda"
    pre_capture = max(a.warmup, 3) if a.graph else 0  # eager steps that create the state a graph reuses
    windows = max(1, min(MAX_WINDOWS, pre_capture + a.warmup + a.steps))
    if cuda:
        gc.collect()
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    step = Step(torch, row, device, a.graph, a.seed, windows)
    if a.graph:
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(pre_capture):
                step()
        torch.cuda.current_stream().wait_stream(side)
        g = torch.cuda.CUDAGraph()
        with torch.cuda.graph(g):
            loss = step()
        run = g.replay
    else:
        def run():
            nonlocal loss
            loss = step()
        loss = None
    for _ in range(a.warmup):
        run()
    ms = []
    if cuda:
        torch.cuda.synchronize()
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        for _ in range(a.steps):
            start.record()
            run()
            end.record()
            end.synchronize()
            ms.append(start.elapsed_time(end))
    else:
        for _ in range(a.steps):
            t0 = time.perf_counter()
            run()
            ms.append((time.perf_counter() - t0) * 1000)
    final = float(loss.detach())
    if not math.isfinite(final):
        raise RuntimeError(f"loss is {final} after {a.warmup + a.steps} steps")
    peak = torch.cuda.max_memory_allocated() if cuda else peak_rss_bytes()
    del step, run
    return statistics.median(ms), min(ms), peak


def result(torch, row, a, device, ms, ms_min, peak):
    cell, layers, hidden, batch, seq = row
    cuda = device == "cuda"
    return {
        "impl": ("pytorch-cudagraph" if a.graph else "pytorch") if cuda else "pytorch-cpu",
        "device": torch.cuda.get_device_name() if cuda else cpu_name(),
        "precision": "tf32" if a.tf32 else "fp32",
        "tf32": a.tf32,
        "graph": a.graph,
        "cell": cell, "layers": layers, "hidden": hidden, "embedding": hidden, "vocab": VOCAB,
        "batch": batch, "seq": seq,
        "steps": a.steps, "warmup": a.warmup,
        "ms_per_step": round(ms, 3), "ms_min": round(ms_min, 3),
        "chars_per_s": round(batch * seq / ms * 1000),
        "peak_mem_mib": round(peak / 2**20, 1), "mem_kind": "device" if cuda else "rss",
        "torch": torch.__version__,
        "cudnn": torch.backends.cudnn.version() if cuda else None,
        "threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "date": datetime.datetime.now(datetime.timezone.utc).date().isoformat(),
    }


def main(argv):
    a = parse_args(argv)
    selected = rows(a)
    if a.list:
        for cell, layers, hidden, batch, seq in selected:
            print(json.dumps({"cell": cell, "layers": layers, "hidden": hidden, "batch": batch, "seq": seq}))
        return 0
    try:
        import torch
    except ImportError as e:
        raise UsageError(f"{sys.executable} cannot import torch ({e}); install PyTorch or use a Python that has it")
    device = a.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    elif device == "cuda" and not torch.cuda.is_available():
        raise UsageError(f"PyTorch {torch.__version__} sees no CUDA device; use --device cpu")
    if device == "cpu" and (a.graph or a.tf32):
        why = "PyTorch sees no GPU" if a.device == "auto" else "--device cpu"
        raise UsageError(f"{'--graph 1' if a.graph else '--tf32 1'} needs CUDA ({why})")
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    if device == "cuda":
        set_tf32(torch, a.tf32)
    for i, row in enumerate(selected):
        try:
            ms, ms_min, peak = time_row(torch, row, a, device)
        except RuntimeError as e:  # CUDA out of memory included
            if a.debug:
                raise
            first = (str(e).strip().splitlines() or [type(e).__name__])[0]
            print(f"{PROG}: {label(row)} on {device}: {first}", file=sys.stderr)
            return 1
        print(json.dumps(result(torch, row, a, device, ms, ms_min, peak)), flush=True)
        print(f"{PROG} {i + 1}/{len(selected)} {label(row)}: {ms:.3f} ms/step", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except UsageError as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
