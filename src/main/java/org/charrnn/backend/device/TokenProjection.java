package org.charrnn.backend.device;

import org.charrnn.model.ModelConfig;
import org.charrnn.util.UserError;

/**
 * Layer 0's input projection by token. Where the layer's input is a token's embedding and enters
 * the cell only through W_ih (every cell but those that feed their input directly: MUT1, MUT2), row
 * n of gx [N,Gi] = Emb[x_n] W_ih^T is row x_n of the table P [V,Gi] = Emb W_ih^T. A window then
 * takes one GEMM of V Gi E multiply-adds and a gather of P's rows instead of the gather of
 * embeddings and a GEMM of N Gi E (where layer 0's forward is one launch that reads P's rows
 * through the window's ids, {@link WindowKernels#forwardByToken}, not even that gather); backward sums dgx per token into S [V,Gi] (P's buffer) and takes
 * dEmb [V,E] = S W_ih, dW_ih [Gi,E] = S^T Emb and the biases' column sums (S's V rows, not dgx's N)
 * from it, in place of dX [N,E] = dgx W_ih, its scatter into dEmb, dW_ih = dgx^T X and the column
 * sums over N rows: the same sums, regrouped by token. It pays where V < N = T
 * B (every training window of the bench grids: V 65, N 2500 and up); a window whose step 0 reads
 * a first input instead of an embedding ({@link Workspace#firstInputOn}) runs without it.
 */
final class TokenProjection {
    /**
     * {@code -Dcharrnn.tokenProjection=auto|on|off}: auto projects by token where V < N, on wherever
     * the cell allows it (tests cover the path at any shape), off never.
     */
    static final String PROPERTY = "charrnn.tokenProjection";

    private TokenProjection() {}

    /** Whether a workspace of N = T*B rows keeps a token table for config cfg. */
    static boolean applies(ModelConfig cfg, long n) {
        String v = System.getProperty(PROPERTY, "auto");
        boolean allowed = !cfg.cell().feedsInputDirectly();
        return switch (v) {
            case "auto" -> allowed && cfg.vocabSize() < n;
            case "on" -> allowed;
            case "off" -> false;
            default -> throw new UserError(PROPERTY + " must be auto, on or off, not '" + v + "'");
        };
    }
}
