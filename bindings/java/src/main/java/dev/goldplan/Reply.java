package dev.goldplan;

import com.google.gson.JsonElement;
import com.google.gson.JsonParser;

/** The result of a call: its JSON and the WeChat Pay {@code Request-ID}, when there was one. */
public final class Reply {
    private final String json;
    private final String requestId;

    Reply(String json, String requestId) {
        this.json = json;
        this.requestId = requestId;
    }

    /** The result as JSON text ({@code null} for calls that answer 204). */
    public String json() {
        return json;
    }

    /** The result parsed (a {@code JsonNull} for calls that answer 204). */
    public JsonElement data() {
        return JsonParser.parseString(json);
    }

    /** The {@code Request-ID} to quote to WeChat Pay support, or {@code null}. */
    public String requestId() {
        return requestId;
    }

    @Override
    public String toString() {
        return "Reply(" + json + ", requestId=" + requestId + ")";
    }
}
