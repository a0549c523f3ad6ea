package org.charrnn.backend.cuda;

import org.charrnn.backend.BackendOptions;
import org.charrnn.backend.device.DeviceRnn;
import org.charrnn.model.ModelConfig;
import org.charrnn.util.UserError;

/**
 * The CUDA backend: the shared device orchestration ({@link DeviceRnn}) over {@link CudaOps}, the
 * kernels of kernels/cuda (one fatbin module, cuModuleLoadData) and cuBLAS through JCuda, all
 * queued on one stream. Whole training steps are captured and replayed as CUDA graphs
 * ({@link CudaGraphs}) unless {@link BackendOptions#cudaGraph()} is off.
 *
 * <p>bf16 ({@link org.charrnn.backend.Precision#BF16}): only GEMM operands are bf16 (see
 * {@link Gemm}): a bf16 shadow of the parameters, rewritten after every write of the parameters,
 * and per-GEMM bf16 copies of the activations in scratch that each workspace reserves when it is
 * (re)allocated. Parameters, gradients, optimizer state, cell state, saved activations and the
 * loss stay fp32.
 */
public final class CudaBackend extends DeviceRnn {

    /** Creates the backend on {@code options.device()} (-1 = 0); throws {@link UserError} when it cannot. */
    public CudaBackend(ModelConfig config, BackendOptions options) {
        super(config, new CudaOps(config, options));
    }
}
