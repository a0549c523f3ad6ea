package org.charrnn.backend.cuda;

/** Where an operation of a traced step ({@link StepTrace}) spends its time. */
enum StepPart {
    FORWARD_RECURRENCE("forward recurrence"),
    BACKWARD_RECURRENCE("backward recurrence"),
    GEMM("GEMMs"),
    KERNELS("other kernels"),
    UPDATE("norm and update"),
    HOST("host");

    final String label;

    StepPart(String label) {
        this.label = label;
    }
}
