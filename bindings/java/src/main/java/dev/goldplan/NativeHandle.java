package dev.goldplan;

import com.sun.jna.Pointer;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Consumer;

/**
 * A native handle shared by threads: uses hold the read lock while they use it, {@link #close()}
 * takes the write lock, so the handle is never freed under a call in flight.
 */
final class NativeHandle {
    /** The {@code goldplan_<thing>_free} of the handle's type. */
    interface Free {
        int free(Pointer handle);
    }

    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final Free free;
    private final String what;
    private Pointer handle;

    NativeHandle(Pointer handle, Free free, String what) {
        this.handle = handle;
        this.free = free;
        this.what = what;
    }

    /** Runs {@code use} with the live handle; {@link IllegalStateException} once closed. */
    void with(Consumer<Pointer> use) {
        lock.readLock().lock();
        try {
            if (handle == null) {
                throw new IllegalStateException("the " + what + " is closed");
            }
            use.accept(handle);
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Frees the handle once; later calls do nothing. */
    void close() {
        lock.writeLock().lock();
        try {
            if (handle != null) {
                free.free(handle);
                handle = null;
            }
        } finally {
            lock.writeLock().unlock();
        }
    }
}
