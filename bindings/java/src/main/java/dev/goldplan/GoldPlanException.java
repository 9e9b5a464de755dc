package dev.goldplan;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/**
 * A failure reported by the library: the core's error report, typed. {@link #kind()} is precise
 * ({@code clock_skew}, {@code signature_invalid}, {@code api}, ...), {@link #family()} groups kinds
 * callers handle alike; API errors add {@link #httpStatus()}, {@link #code()} (WeChat's code),
 * {@link #apiMessage()} and {@link #detail()}. Messages never contain secrets.
 */
public class GoldPlanException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int status;
    private final String kind;
    private final String family;
    private final String requestId;
    private final boolean retryable;
    private final Integer httpStatus;
    private final String code;
    private final String apiMessage;
    private final transient JsonElement detail;
    private final String report;

    GoldPlanException(int status, String report) {
        super(message(report));
        this.status = status;
        this.report = report;
        JsonObject o = object(report);
        this.kind = string(o, "kind", "internal");
        this.family = string(o, "family", "internal");
        this.requestId = string(o, "request_id", null);
        this.retryable = o.has("retryable") && o.get("retryable").getAsBoolean();
        this.httpStatus = o.has("status") ? Integer.valueOf(o.get("status").getAsInt()) : null;
        this.code = string(o, "code", null);
        this.apiMessage = string(o, "api_message", null);
        this.detail = o.has("detail") ? o.get("detail") : null;
    }

    private static JsonObject object(String report) {
        try {
            JsonElement e = JsonParser.parseString(report);
            return e.isJsonObject() ? e.getAsJsonObject() : new JsonObject();
        } catch (RuntimeException e) {
            return new JsonObject();
        }
    }

    private static String string(JsonObject o, String name, String fallback) {
        JsonElement e = o.get(name);
        return e == null || e.isJsonNull() ? fallback : e.getAsString();
    }

    private static String message(String report) {
        return string(object(report), "message", "goldplan failed without a report");
    }

    /** The C status code (a family code, or NULL pointer / invalid UTF-8 / invalid handle). */
    public int status() {
        return status;
    }

    /** The stable kind, e.g. {@code "signature_invalid"}. */
    public String kind() {
        return kind;
    }

    /** The family, e.g. {@code "signature"}. */
    public String family() {
        return family;
    }

    /** The WeChat Pay {@code Request-ID}, or {@code null}. */
    public String requestId() {
        return requestId;
    }

    /** Whether sending the same request again may succeed. */
    public boolean retryable() {
        return retryable;
    }

    /** The HTTP status of an API error, or {@code null}. */
    public Integer httpStatus() {
        return httpStatus;
    }

    /** WeChat's error code of an API error (e.g. {@code PARAM_ERROR}), or {@code null}. */
    public String code() {
        return code;
    }

    /** WeChat's message of an API error, or {@code null}. */
    public String apiMessage() {
        return apiMessage;
    }

    /** The {@code detail} member of an API error, or {@code null}. */
    public JsonElement detail() {
        return detail;
    }

    /** The whole report as JSON. */
    public String report() {
        return report;
    }
}
