#!/usr/bin/env bash
# Shows that the native harnesses catch a missing barrier, in a scratch copy of the kernels and
# harnesses rebuilt for the CPU execution layer:
#   - block barrier: removes the __syncthreads() that publishes every thread's value before the
#     tree of cr_block_sum (kernels/cuda/common.cuh); test_reduce_optim and test_loss must FAIL in
#     the forward thread order (thread 0 then reads partners' stale scratch); and the one of
#     cr_column_total that publishes each row lane's sum before lane 0 adds them: test_reduce_optim
#     (column_sum) and test_embedding_dropout (embedding_backward) must FAIL in the forward order;
#   - the last-block reduction (cr_last_block, common.cuh): the first block to finish, not the last,
#     runs the final sum (it then adds partials other blocks have yet to write); test_reduce_optim
#     (global_norm) and test_loss (softmax_xent's loss sum) must FAIL in the forward order;
#   - the fused decoder (kernels/cuda/decoder.cu): the barrier after a tile's logits and the one
#     before its dtop products (test_loss must FAIL in the forward order), and the one between the
#     loss's read of the target's logit and the gradient that overwrites it (in the reverse order);
#   - grid barrier: removes every grid-wide sync (grid.sync()) from test_grid_sync.cu, the one of
#     probe_rates' barrier probes, grid and cluster (their flags checks must FAIL in both orders), then the barrier
#     between steps of each persistent forward (cr_forward_steps, kernels/cuda/persistent_common.cuh)
#     and each persistent backward (kernels/cuda/persistent_{lstm,gru,rnn}.cu), both halves of it
#     (cr_persistent_arrive, _wait), in the grid layout (the grid barrier) and in the cluster
#     layout (the cluster barrier) in turn; test_grid_sync and test_persistent_{lstm,gru,rnn} must
#     FAIL in the forward and the reverse order (block 0 then runs ahead of, or behind, the others
#     of its grid or cluster);
#   - the block barriers of the persistent products (kernels/cuda/persistent_{common,mma}.cuh), one at a
#     time: of the FMA and of the tensor-core (mma) product, the one before a tile of x is staged
#     (its readers of the previous tile must be done) and the one after it (the tile must be
#     complete before any thread reads it); and the one after the last tile that both share (every
#     lane's or warp's partial sum must be written before the tree adds them);
#     test_persistent_lstm_tiled (many k-tiles, S lanes or warps per product, every precision)
#     must FAIL in the forward order (the mma's free-x barrier: test_persistent_lstm, forward and
#     reverse);
#   - the row-stationary backward (kernels/cuda/persistent_rows.cuh): the grid barrier that
#     publishes a step's shares (LSTM and GRU), the block barrier after the cell phase, the two of
#     the scatter's tiles and the three of the gather's (o free, tile staged, sums complete), and
#     one exchange slot for every step instead of two (a block then overwrites shares that slower
#     blocks have yet to read), and in batch groups every group's gather reading the first group's
#     shares: test_persistent_{lstm,gru} or their _tiled builds must FAIL in the forward order (the
#     gather's o-free barrier: in the reverse order);
#   - the cluster layout's exchange (kernels/cuda/persistent_exchange.cuh): one x buffer instead of
#     two; test_persistent_lstm must FAIL in the forward order; and a block's own copy of what it
#     stores into its cluster (cr_cluster_dest, kernels/cuda/persistent_layout.cuh) sent to the next
#     block instead: test_persistent_lstm (exchange, cluster rows) and test_persistent_rnn_pair must
#     FAIL in the forward order;
#   - the RNN pair forward's skip of layer a's zeros (plan ra, ka) taken by an FMA item or a group
#     of mma tiles that also holds layer b's rows; test_persistent_rnn_pair must FAIL in the forward
#     order;
#   - the RNN pair backward's plan a, resident in the upper half of the registers (HALF 1), read
#     from the lower half (plan b's slice); test_persistent_rnn_pair must FAIL in the forward order;
#   - the resident tensor-core plans (kernels/cuda/persistent_mma.cuh, the cluster rows scatter
#     of persistent_cluster_rows.cuh): a warp's a fragments of the previous k-step from its
#     registers; test_persistent_lstm must FAIL in the forward order; the resident FMA plan
#     (kernels/cuda/persistent_fma.cuh): a thread's rows of a at another of its k from its
#     registers; test_persistent_rnn must FAIL in the forward order; the resident FMA cluster rows
#     scatter: a thread's slice value of the row before; test_persistent_lstm must FAIL likewise;
#   - the FMA product's vector layout of x (kernels/cuda/persistent_fma.cuh): a thread's 16-byte
#     load of another chunk of rows b; test_persistent_lstm and test_persistent_rnn_pair must FAIL
#     in the forward order.
# Exits 0 when every mutant is caught, 1 when one survives (the harness could not fail), 2 on error.
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
jobs=$(nproc 2>/dev/null || echo 2)

# mutant NAME FILE PERL-EXPR "ORDERS" TESTS...: applies the substitution to a fresh copy of FILE
# (relative to the repository root), rebuilds TESTS and requires each to fail in every order. A mutant's
# harness stops at its first failed check (CR_FAIL_FAST, common.h): that it fails is all this shows.
# Mutants run as many at once as there are cores (each a build of one harness at -O1, mostly one core's work);
# a survivor leaves $scratch/survived, an error $scratch/error.
mutant() {
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
  mutant_run "$@" &
}
mutant_run() {
  local name=$1 file=$2 expr=$3 orders=$4; shift 4
  local dir="$scratch/$name" out=""
  mkdir -p "$dir/native-test"
  cp -r "$here/../kernels" "$dir/kernels"
  cp -r "$here"/*.cu "$here"/*.cuh "$here"/*.c "$here"/*.h "$here/Makefile" "$here/cpu" "$dir/native-test/"
  perl -0pi -e "$expr" "$dir/$file"
  grep -q 'mutant: ' "$dir/$file" || { echo "mutation-check: $name: could not find the barrier to remove" >&2; touch "$scratch/error"; return; }
  local targets=()
  for t in "$@"; do targets+=("build/mutant/$t"); done
  make -s -j"$jobs" -C "$dir/native-test" CPU_BUILD=build/mutant CPU_FLAGS=-O1 "${targets[@]}" >/dev/null 2>&1 \
    || { echo "mutation-check: $name: mutant build failed" >&2; touch "$scratch/error"; return; }
  for t in "$@"; do
    for order in $orders; do
      if CR_FAIL_FAST=1 CRCPU_ORDER=$order "$dir/native-test/build/mutant/$t" > "$dir/$t.$order.log" 2>&1; then
        out+="mutation-check: $name: $t PASSED in $order order with the barrier removed: the harness cannot see this race"$'\n'
        touch "$scratch/survived"
      else
        out+="mutation-check: $name: $t fails in $order order with the barrier removed, as it must (first failed check: $(grep -m1 FAIL "$dir/$t.$order.log" | sed 's/  */ /g;s/^ //'))"$'\n'
      fi
    done
  done
  printf '%s' "$out"
  rm -rf "$dir"
}

# The first __syncthreads() of common.cuh is the one right after scratch[threadIdx.x] = v in cr_block_sum.
mutant block-barrier kernels/cuda/common.cuh \
  's/(scratch\[threadIdx\.x\] = v;\n)(\s*)__syncthreads\(\);\n/$1$2\/* mutant: barrier removed *\/\n/' \
  forward test_reduce_optim test_loss
mutant column-barrier kernels/cuda/common.cuh \
  's/(lanes\[threadIdx\.y\]\[threadIdx\.x\] = s;\n)(\s*)__syncthreads\(\);\n/$1$2\/* mutant: barrier removed *\/\n/' \
  forward test_reduce_optim test_embedding_dropout
mutant last-block kernels/cuda/common.cuh \
  's/== blocks - 1;/== 0; \/* mutant: the first block sums *\//' \
  forward test_reduce_optim test_loss
# the fused decoder (kernels/cuda/decoder.cu): the barrier after a tile's logits (the softmax reads
# other threads' logits), the one before its dtop (the products read other rows' gradients), and
# the one between the loss's read of the target's logit and the gradient that overwrites it
mutant decoder-logits-barrier kernels/cuda/decoder.cu \
  's/__syncthreads\(\);\n(\s*)\/\* \(2\) softmax/\/* mutant: barrier removed *\/\n$1\/* (2) softmax/' \
  forward test_loss
mutant decoder-dtop-barrier kernels/cuda/decoder.cu \
  's/__syncthreads\(\);\n(\s*)\/\* \(3\) dtop/\/* mutant: barrier removed *\/\n$1\/* (3) dtop/' \
  forward test_loss
mutant decoder-target-barrier kernels/cuda/decoder.cu \
  's/__syncthreads\(\); \/\* lr\[target\] read/\/* mutant: barrier removed *\/ \/* lr[target] read/' \
  reverse test_loss
mutant grid-barrier native-test/test_grid_sync.cu \
  's/\bgrid\.sync\(\);/\/* mutant: barrier removed *\/;/g' \
  "forward reverse" test_grid_sync
# (probe_rates times a GPU's grid barrier only after its flags show the barrier held)
mutant probe-barrier native-test/probe_kernels.cuh \
  's/grid\.sync\(\);\n(\s*)if \(threadIdx\.x == 0 && \(\(volatile/\/* mutant: barrier removed *\/\n$1if (threadIdx.x == 0 \&\& ((volatile/' \
  "forward reverse" probe_rates
mutant probe-cluster-barrier native-test/probe_kernels.cuh \
  's/cr_persistent_sync<true>\(\);/\/* mutant: barrier removed *\//' \
  "forward reverse" probe_rates
# (each layout's barrier alone: the grid layout keeps the cluster barrier, and the other way round)
for cell in lstm gru rnn; do
  for layout in grid cluster; do
    keep=CLUSTER
    [ $layout = cluster ] && keep='!CLUSTER'
    # both halves of the split barrier (the grid layout's arrive is its whole barrier, the cluster's
    # wait on the CPU execution layer): the forward's in cr_forward_steps, shared by the three cells
    mutant persistent-$cell-forward-$layout-barrier kernels/cuda/persistent_common.cuh \
      "s/\\n    cr_persistent_arrive<CLUSTER>\\(\\);\\n/\\n    if ($keep) cr_persistent_arrive<CLUSTER>(); \\/* mutant: $layout barrier removed *\\/\\n/; s/\\n    cr_persistent_wait<CLUSTER>\\(\\);\\n/\\n    if ($keep) cr_persistent_wait<CLUSTER>();\\n/" \
      "forward reverse" test_persistent_$cell
    mutant persistent-$cell-backward-$layout-barrier kernels/cuda/persistent_$cell.cu \
      "s/\\n    cr_persistent_arrive<CLUSTER>\\(\\);\\n/\\n    if ($keep) cr_persistent_arrive<CLUSTER>(); \\/* mutant: $layout barrier removed *\\/\\n/; s/\\n    cr_persistent_wait<CLUSTER>\\(\\);\\n/\\n    if ($keep) cr_persistent_wait<CLUSTER>();\\n/" \
      "forward reverse" test_persistent_$cell
  done
done
for cell in lstm gru; do
  mutant persistent-$cell-rows-barrier kernels/cuda/persistent_$cell.cu \
    's/grid\.sync\(\); \/\* the shares of step t are published \*\//\/* mutant: barrier removed *\//' \
    "forward reverse" test_persistent_$cell
  mutant persistent-$cell-rows-slot kernels/cuda/persistent_$cell.cu \
    's/part, NG, t & 1, rank\);/part, NG, (t + 1) & 1 \/* mutant: one exchange slot *\/, rank);/' \
    forward test_persistent_$cell
done
# the row-stationary backward's batch groups (persistent_rows.cuh): every group's gather reads the
# first group's shares (run_group_rows_checks)
mutant persistent-rows-group-part kernels/cuda/persistent_rows.cuh \
  's/share \+ \(long long\)blockIdx\.x \/ p\.P \* p\.P \* p\.P \* share \+\n(\s*)\(long long\)rank \* share;/share +\n$1(long long)rank * share; \/* mutant: one group of shares *\//' \
  forward test_persistent_lstm
# the cluster layout's row-stationary backward (persistent_cluster_rows.cuh): its cluster barrier
# a step, and its two slots of shares as one (a block's scatter overwrites shares a peer still sums)
mutant persistent-lstm-cluster-rows-barrier kernels/cuda/persistent_lstm.cu \
  's/cr_persistent_sync<true>\(\); \/\* the shares of step t are in every block \*\//\/* mutant: barrier removed *\//' \
  "forward reverse" test_persistent_lstm
mutant persistent-gru-cluster-rows-slot kernels/cuda/persistent_gru.cu \
  's/in, t & 1, rank, prec\);/in, (t + 1) \& 1 \/* mutant: one slot *\/, rank, prec);/' \
  forward test_persistent_gru
mutant persistent-rows-cell-barrier kernels/cuda/persistent_lstm.cu \
  's/__syncthreads\(\); \/\* the block.s rows of dgates/\/* mutant: barrier removed *\/ \/* rows of dgates/' \
  forward test_persistent_lstm
mutant persistent-rows-complete-barrier kernels/cuda/persistent_rows.cuh \
  's/__syncthreads\(\); \/\* the tile.s shares are complete/\/* mutant: barrier removed *\/ \/* shares/' \
  forward test_persistent_lstm_tiled
mutant persistent-rows-free-barrier kernels/cuda/persistent_rows.cuh \
  's/__syncthreads\(\); \/\* o is free for the next tile/\/* mutant: barrier removed *\/ \/* o is free/' \
  forward test_persistent_lstm_tiled
# (a thread stages the entries it sums itself, or ones summed by later threads: the reverse order)
mutant persistent-rows-gather-free-barrier kernels/cuda/persistent_rows.cuh \
  's/__syncthreads\(\); \/\* o is free: its readers/\/* mutant: barrier removed *\/ \/* o is free: its readers/' \
  reverse test_persistent_lstm_tiled
mutant persistent-rows-gather-staged-barrier kernels/cuda/persistent_rows.cuh \
  's/__syncthreads\(\); \/\* the tile of shares is staged/\/* mutant: barrier removed *\/ \/* staged/' \
  forward test_persistent_lstm_tiled
mutant persistent-rows-gather-sums-barrier kernels/cuda/persistent_rows.cuh \
  's/__syncthreads\(\); \/\* carry is complete/\/* mutant: barrier removed *\/ \/* carry/' \
  forward test_persistent_lstm
mutant persistent-tile-free-barrier kernels/cuda/persistent_fma.cuh \
  's/__syncthreads\(\); \/\* x and acc are free/\/* mutant: barrier removed *\/ \/* x and acc are free/' \
  forward test_persistent_lstm_tiled
mutant persistent-tile-staged-barrier kernels/cuda/persistent_fma.cuh \
  's/(: 0\.0f;\n    \}\n)    __syncthreads\(\);\n/$1    \/* mutant: barrier removed *\/\n/' \
  forward test_persistent_lstm_tiled
# (with 40-float tiles a k-tile is one mma k-step, which every warp reads before any restages it in
# the forward order; the untiled harness has warps that finish their k-steps first)
mutant persistent-mma-tile-free-barrier kernels/cuda/persistent_mma.cuh \
  's/__syncthreads\(\); \/\* x and acc are free for the mma/\/* mutant: barrier removed *\/ \/* x and acc are free for the mma/' \
  "forward reverse" test_persistent_lstm
mutant persistent-mma-tile-staged-barrier kernels/cuda/persistent_mma.cuh \
  's/__syncthreads\(\); \/\* the tile of words is complete/\/* mutant: barrier removed *\/ \/* the tile of words is complete/' \
  forward test_persistent_lstm_tiled
mutant persistent-lanes-barrier kernels/cuda/persistent_common.cuh \
  's/__syncthreads\(\); \/\* every lane.s partial sums are written/\/* mutant: barrier removed *\/ \/* every lane partial sums/' \
  forward test_persistent_lstm_tiled
# (the exchange's two x buffers as one: a block's cell phase stores step t's values over the ones a
# slower peer's product of step t is still reading)
mutant persistent-exchange-one-buffer kernels/cuda/persistent_exchange.cuh \
  's/\(p\.exchange \? \(long long\)\(i & 1\)/(p.exchange ? 0 \/* mutant: one exchange buffer *\/ * (long long)(i \& 1)/' \
  forward test_persistent_lstm test_persistent_rnn_pair
# (a block's own copy of what it stores into its cluster, cr_cluster_dest, sent to the next block
# instead: its own buffer keeps zeros or NaN, the next block's takes a wrong value)
mutant persistent-exchange-own-copy kernels/cuda/persistent_layout.cuh \
  's/return rank == \(int\)blockIdx\.x % CR_CLUSTER \? p : cr_cluster_peer\(p, rank\);/return cr_cluster_peer(p, rank == (int)blockIdx.x % CR_CLUSTER ? (rank + 1) % CR_CLUSTER : rank); \/* mutant: the own copy to the next block *\//' \
  forward test_persistent_lstm test_persistent_rnn_pair
# the pair kernels (kernels/cuda/persistent_rnn_pair.cu): the backward's cluster barrier a tick
# (both halves), the forward's barrier after the initial states are stored, and the one-buffer
# exchange above, which they share
mutant persistent-rnn-pair-backward-barrier kernels/cuda/persistent_rnn_pair.cu \
  's/\n    cr_persistent_arrive<true>\(\);\n/\n    \/* mutant: barrier removed *\/\n/; s/\n    cr_persistent_wait<true>\(\);\n/\n/' \
  "forward reverse" test_persistent_rnn_pair
mutant persistent-rnn-pair-initial-barrier kernels/cuda/persistent_rnn_pair.cu \
  's/cr_persistent_sync<true>\(\); \/\* the initial states are in every block \*\//\/* mutant: barrier removed *\//' \
  forward test_persistent_rnn_pair
# (the pair forward's skip of layer a's zeros, plan ra and ka, taken by an item of the FMA product
# or a group of the mma's tiles that also holds layer b's rows: those lose their products against
# h_b; H = 33 puts layer b's first rows in layer a's last item and group)
mutant persistent-fma-short-rows kernels/cuda/persistent_fma.cuh \
  's/const int kl = r0 \+ CR_PERSISTENT_RR <= p\.ra/const int kl = r0 < p.ra \/* mutant: a mixed item stops at ka *\//' \
  forward test_persistent_rnn_pair
mutant persistent-mma-short-rows kernels/cuda/persistent_mma.cuh \
  's/if \(\(rt0 \+ GR < RT \? rt0 \+ GR : RT\) \* mr <= p\.ra\)/if (rt0 * mr < p.ra) \/* mutant: a mixed group stops at ka *\//' \
  forward test_persistent_rnn_pair
# (the pair backward's plan a, resident in the upper half of the registers beside plan b, read from
# the lower half: plan b's slice)
mutant persistent-pair-half kernels/cuda/persistent_rnn_pair.cu \
  's/cr_persistent_product<A, 1>\(pa,/cr_persistent_product<A, 0>(pa, \/* mutant: the lower half *\//' \
  forward test_persistent_rnn_pair
# (the a fragments kept in registers, read at the wrong k-step: no barrier, but the one place the
# resident plan and the shared one differ)
mutant persistent-resident-step kernels/cuda/persistent_mma.cuh \
  's/f\.w\[st \+ HALF \* CR_MMA_HALF\], ok, d\);/f.w[(st > 0 ? st - 1 : 0) + HALF * CR_MMA_HALF] \/* mutant: the wrong k-step *\/, ok, d);/' \
  forward test_persistent_lstm
mutant persistent-fma-resident-step kernels/cuda/persistent_fma.cuh \
  's/__uint_as_float\(f\.w\[fi \/ 2\]\[fi % 2\]\[q\]\)/__uint_as_float(f.w[fi \/ 2][0][q]) \/* mutant: the wrong k *\//' \
  forward test_persistent_rnn
mutant persistent-fma-vector-chunk kernels/cuda/persistent_fma.cuh \
  's/cr_load4\(x \+ \(long long\)kk \* XS \+ g \* CR_PERSISTENT_RB,/cr_load4(x + (long long)kk * XS + (g ^ 1) * CR_PERSISTENT_RB \/* mutant: other rows b *\/,/' \
  forward test_persistent_lstm test_persistent_rnn_pair
mutant persistent-cluster-rows-fma-resident-row kernels/cuda/persistent_cluster_rows.cuh \
  's/float a = __uint_as_float\(cr_rows_fma_word\(f, r\)\);/float a = __uint_as_float(cr_rows_fma_word(f, r > 0 ? r - 1 : 0)); \/* mutant: the wrong row *\//' \
  forward test_persistent_lstm
mutant persistent-cluster-rows-resident-step kernels/cuda/persistent_cluster_rows.cuh \
  's/f\.w\[st\]\[i\], d\[i\], prec\);/f.w[st > 0 ? st - 1 : 0][i] \/* mutant: the wrong k-step *\/, d[i], prec);/' \
  forward test_persistent_lstm
wait
[ -e "$scratch/error" ] && exit 2
[ -e "$scratch/survived" ] && exit 1
exit 0
