package dev.goldplan;

import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/**
 * The result of a call: its JSON and the WeChat Pay {@code Request-ID}, when there was one. The
 * reply of {@link GoldPlanClient#parseNotification} holds the decrypted callback resource: its
 * {@link #toString()} leaves that out, as the other bindings do.
 */
public final class Reply {
    private final String json;
    private final String requestId;
    /** Whether {@link #json} holds a decrypted notification ({@code plaintext}, {@code resource}). */
    private final boolean decrypted;

    Reply(String json, String requestId) {
        this(json, requestId, false);
    }

    Reply(String json, String requestId, boolean decrypted) {
        // The library gives the JSON text "null" for a call that answers 204 (no body).
        this.json = "null".equals(json) ? null : json;
        this.requestId = requestId;
        this.decrypted = decrypted;
    }

    /** The result as JSON text ({@code null} for calls that answer 204). */
    public String json() {
        return json;
    }

    /** The result parsed (a {@code JsonNull} for calls that answer 204). */
    public JsonElement data() {
        return json == null ? JsonNull.INSTANCE : JsonParser.parseString(json);
    }

    /** The {@code Request-ID} to quote to WeChat Pay support, or {@code null}. */
    public String requestId() {
        return requestId;
    }

    /** The JSON, except for a notification: its envelope fields and the plaintext's length only. */
    @Override
    public String toString() {
        return "Reply(" + (decrypted ? notificationSummary() : json) + ", requestId=" + requestId + ")";
    }

    /** What Python's {@code repr(Notification)} shows, and the plaintext's length. */
    private String notificationSummary() {
        int length = json == null ? 0 : json.length();
        JsonObject o;
        try {
            JsonElement parsed = JsonParser.parseString(json);
            if (!parsed.isJsonObject()) {
                return "json_len=" + length;
            }
            o = parsed.getAsJsonObject();
        } catch (RuntimeException e) {
            // Nothing of the text may be shown when it cannot be split into its fields.
            return "json_len=" + length;
        }
        StringBuilder b = new StringBuilder("Notification(");
        for (String field : new String[] {"id", "event_type", "create_time", "serial"}) {
            JsonElement value = o.get(field);
            if (value != null && value.isJsonPrimitive()) {
                b.append(field).append('=').append(value).append(", ");
            }
        }
        JsonElement plaintext = o.get("plaintext");
        int plaintextLength = plaintext != null && plaintext.isJsonPrimitive() ? plaintext.getAsString().length() : 0;
        return b.append("plaintext_len=").append(plaintextLength).append(')').toString();
    }
}
