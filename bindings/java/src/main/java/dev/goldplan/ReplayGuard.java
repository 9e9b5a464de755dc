package dev.goldplan;

/**
 * Decides whether a callback was already handled, for {@link GoldPlanClient#parseNotification(
 * java.util.Map, byte[], ReplayGuard)}. WeChat Pay re-delivers a callback until it gets a success
 * answer, so duplicates are normal; a replay is answered with success and not processed again.
 *
 * <p>Say "processed" only for ids whose processing <b>completed</b> (record an id after your
 * handler succeeded, never when merely asked): otherwise a callback whose first processing failed
 * would be acknowledged on re-delivery and lost. It is asked only for authentic, decrypted
 * callbacks, on the thread calling {@code parseNotification}. {@link MemoryReplayGuard} is the
 * library's in-memory one; a fleet of processes asks a shared store (a database, Redis) instead.
 */
@FunctionalInterface
public interface ReplayGuard {
    /** Whether the callback {@code notificationId} (its {@code id}) was processed to completion. */
    boolean alreadyProcessed(String notificationId);
}
