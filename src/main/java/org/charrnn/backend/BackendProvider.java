package org.charrnn.backend;

import java.util.List;

/** Knows whether one kind of backend can run here, lists its devices and creates instances. */
public interface BackendProvider {

    /** "reference", "cuda" or "opencl". */
    String name();

    /** Whether this backend can run here; when not, a one-line reason a user can act on. */
    Availability probe();

    /** Devices this backend can use (empty when unavailable). */
    List<DeviceInfo> devices();

    /** Lines about how this backend will run here (driver, GEMM library), shown by 'charrnn devices'. */
    default List<String> notes() {
        return List.of();
    }

    /** A backend for {@code config}; throws {@link org.charrnn.util.UserError} with a clear reason when it cannot. */
    Backend create(org.charrnn.model.ModelConfig config, BackendOptions options);

    /** Outcome of {@link #probe()}. */
    record Availability(boolean available, String reason) {
        public static Availability yes() {
            return new Availability(true, "available");
        }

        public static Availability no(String reason) {
            return new Availability(false, reason);
        }
    }

    /**
     * One device.
     * @param index       index to pass as --device
     * @param platform    platform or driver ("CUDA 13.0", "Portable Computing Language", "Java")
     * @param name        device name
     * @param memoryBytes global memory (0 if unknown)
     * @param gpu         true for a GPU, false for a CPU device
     */
    record DeviceInfo(int index, String platform, String name, long memoryBytes, boolean gpu) {}
}
