package org.charrnn.backend.device;

/**
 * The fused pointwise kernels of the recurrent cells for one timestep of B rows, per dialect
 * (CUDA: kernels/cuda/{lstm,gru,rnn,mut}.cu; OpenCL: kernels/opencl/*.cl), called by the
 * {@link DeviceCell}s between their recurrent GEMMs. Conventions as {@link DeviceOps}: row-major
 * fp32 tensors addressed by {@link Ref}, "(=)" written, "(+=)" accumulated, PyTorch's gate order.
 */
public interface CellKernels {

    /**
     * LSTM: gates [B,4H] (= i,f,g,o activated), c, h [B,H] (=) from gx, gh [B,4H] (no biases),
     * bih, bhh [4H], cPrev [B,H]; c may alias cPrev.
     */
    void lstmForward(Ref gx, Ref gh, Ref bih, Ref bhh, Ref cPrev, Ref gates, Ref c, Ref h, int B, int H);

    /** GRU: gates [B,4H] (= r, z, n, gh_n + b_hn), h [B,H] (=) from gx, gh [B,3H], bih, bhh [3H], hPrev [B,H]. */
    void gruForward(Ref gx, Ref gh, Ref bih, Ref bhh, Ref hPrev, Ref gates, Ref h, int B, int H);

    /** RNN: h [B,H] (=) tanh(gx + bih + gh + bhh). */
    void rnnForward(Ref gx, Ref gh, Ref bih, Ref bhh, Ref h, int B, int H);

    /**
     * LSTM: dgates [B,4H] (=) pre-activation gradients; dc [B,H] updated to dL/dc_{t-1}; dhNext
     * [B,H] read (dL/dh_t from step t+1) and zeroed (the caller adds dgates W_hh).
     */
    void lstmBackward(Ref dhOut, Ref dhNext, Ref dc, Ref gates, Ref cPrev, Ref c, Ref dgates, int B, int H);

    /** GRU: dgx, dgh [B,3H] (=); dhNext [B,H] read, then set to dh * z (the caller adds dgh W_hh). */
    void gruBackward(Ref dhOut, Ref dhNext, Ref gates, Ref hPrev, Ref dgx, Ref dgh, int B, int H);

    /** RNN: dgates [B,H] (=) (dhOut + dhNext)(1 - h^2); dhNext set to 0. */
    void rnnBackward(Ref dhOut, Ref dhNext, Ref h, Ref dgates, int B, int H);

    /*
     * MUT1/2/3 (variant 1..3; kernels/cuda/mut.cu gives the order of kernels and GEMMs in a step):
     * gx [B,Gi*H], gh [B,Gh*H] in the variant's block order, saved [B,5H] = z, r, n, r*hPrev,
     * tanh(hPrev); x [B,H] the layer input (read by MUT1 and MUT2 only); dx [B,H] written by MUT1
     * (candidate backward) and MUT2 (gates backward) only.
     */

    /** saved.th (=) tanh(hPrev) (MUT3, before its z GEMM). */
    void mutTanhH(Ref hPrev, Ref saved, int B, int H);

    /** saved.z, saved.r, saved.rh (=) from gx, gh (all blocks but n), biases, hPrev and x. */
    void mutGatesForward(int variant, Ref gx, Ref gh, Ref bih, Ref bhh, Ref hPrev, Ref x, Ref saved, int B, int H);

    /** saved.n, h [B,H] (=) from gh.n (= saved.rh W_hn^T), gx.n or tanh(x), saved.z, hPrev; h must not alias hPrev. */
    void mutCandidateForward(
            int variant, Ref gx, Ref gh, Ref bih, Ref bhh, Ref hPrev, Ref x, Ref saved, Ref h, int B, int H);

    /** dgx/dgh z and n blocks (=), dx (MUT1, =); dhNext (=) (dhOut + dhNext)(1 - z). */
    void mutCandidateBackward(
            int variant, Ref dhOut, Ref dhNext, Ref saved, Ref hPrev, Ref x, Ref dgx, Ref dgh, Ref dx, int B, int H);

    /** From drh [B,H] = dgh.n W_hn: dgh.r and dgx.r or dx (MUT2) (=); dhNext (+=) drh r. */
    void mutGatesBackward(
            int variant, Ref drh, Ref saved, Ref hPrev, Ref dhNext, Ref dgx, Ref dgh, Ref dx, int B, int H);

    /** dhNext [B,H] (+=) dth (1 - saved.th^2) (MUT3). */
    void mutTanhBackward(Ref dth, Ref saved, Ref dhNext, int B, int H);
}
