package dev.goldplan;

import com.sun.jna.Pointer;
import com.sun.jna.ptr.ByteByReference;
import com.sun.jna.ptr.PointerByReference;
import java.util.function.Consumer;

/**
 * The library's bounded in-memory {@link ReplayGuard}: the ids of the last {@code capacity}
 * callbacks recorded with {@link #recordProcessed(String)}, the oldest forgotten first, so memory
 * stays bounded. It answers for this process only. Thread-safe; {@link #close()} releases it.
 */
public final class MemoryReplayGuard implements ReplayGuard, AutoCloseable {
    private static final GoldPlanNative LIB = GoldPlanNative.LIB;

    private final NativeHandle handle;

    /** A guard remembering at most {@code capacity} ids (at least 1; the library checks). */
    public MemoryReplayGuard(long capacity) {
        PointerByReference out = new PointerByReference();
        GoldPlanClient.check(LIB.goldplan_replay_guard_new(capacity, out));
        handle = new NativeHandle(out.getValue(), LIB::goldplan_replay_guard_free, "MemoryReplayGuard");
    }

    /**
     * Records that the callback {@code notificationId} was processed to completion: from now on
     * {@code parseNotification} with this guard throws the {@code "replay"} family for it. Call it
     * after your handler succeeded. An id longer than 256 bytes is refused ({@code invalid_input}).
     */
    public void recordProcessed(String notificationId) {
        byte[] id = GoldPlanClient.utf8(notificationId);
        with(g -> GoldPlanClient.check(LIB.goldplan_replay_guard_record_processed(g, id, id.length)));
    }

    @Override
    public boolean alreadyProcessed(String notificationId) {
        byte[] id = GoldPlanClient.utf8(notificationId);
        ByteByReference processed = new ByteByReference();
        with(g -> GoldPlanClient.check(LIB.goldplan_replay_guard_is_processed(g, id, id.length, processed)));
        return processed.getValue() != 0;
    }

    /** Releases the native guard; later uses throw {@link IllegalStateException}. */
    @Override
    public void close() {
        handle.close();
    }

    /** Runs {@code use} with the live handle, which cannot be freed meanwhile. */
    void with(Consumer<Pointer> use) {
        handle.with(use);
    }
}
