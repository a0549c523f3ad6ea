package org.charrnn.testutil;

import org.charrnn.model.CellType;
import org.charrnn.model.ModelConfig;

/** Model configurations for tests that loop over every cell. */
public final class Models {
    private Models() {}

    /**
     * {@code new ModelConfig(cell, V, E, H, L, p)}, except that cells adding the layer input itself
     * into the cell (MUT1, MUT2), which need E = H, get E = H.
     */
    public static ModelConfig config(CellType cell, int V, int E, int H, int L, double p) {
        return new ModelConfig(cell, V, cell.feedsInputDirectly() ? H : E, H, L, p);
    }
}
