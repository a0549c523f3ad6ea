/*
 * charrnn.cu: the single translation unit nvcc compiles into kernels/charrnn.fatbin (one module,
 * loaded by org.charrnn.backend.cuda.CudaBackend with cuModuleLoadData). The kernel families live
 * in their own files, each documenting shapes, gate order, aliasing and = / += of its kernels.
 */
#include "copy.cu"
#include "embedding.cu"
#include "lstm.cu"
#include "gru.cu"
#include "rnn.cu"
#include "mut.cu"
#include "dropout.cu"
#include "loss.cu"
#include "decoder.cu"
#include "reduce.cu"
#include "optim.cu"
#include "gemm.cu"
#include "convert.cu"
#include "persistent_lstm.cu"
#include "persistent_gru.cu"
#include "persistent_rnn.cu"
#include "persistent_rnn_pair.cu"
