package dev.goldplan;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.sun.jna.ptr.PointerByReference;
import java.util.List;
import java.util.Map;

/**
 * The protocol helpers that need no client (the registry's {@code local} operations): the
 * merchant receipt's {@code check_code}, the strings to sign and to verify, the canonical URL and
 * the {@code /v3/certificates} download. Each one runs in libgoldplan ({@code goldplan_call_local})
 * with its arguments as JSON, so the rules and the messages are the core's, the same in every
 * language. Failures throw {@link GoldPlanException}.
 */
public final class Protocol {
    private static final GoldPlanNative LIB = GoldPlanNative.LIB;
    private static final Gson GSON = new Gson();

    private Protocol() {
    }

    /** Runs the registry helper {@code operation} with {@code args}; its JSON result. */
    private static JsonElement callLocal(String operation, JsonObject args) {
        byte[] op = GoldPlanClient.utf8(operation);
        byte[] json = GoldPlanClient.utf8(GSON.toJson(args));
        PointerByReference out = new PointerByReference();
        GoldPlanClient.check(LIB.goldplan_call_local(op, op.length, json, json.length, out));
        return JsonParser.parseString(replyJson(GoldPlanClient.reply(out.getValue())));
    }

    /** A reply's JSON text, {@code "null"} included (a {@link Reply} keeps that as Java null). */
    private static String replyJson(Reply reply) {
        return reply.json() == null ? "null" : reply.json();
    }

    private static JsonObject checkCodeArgs(String configuredLink, String subMchId, String outTradeNo,
            String transactionId) {
        JsonObject args = new JsonObject();
        args.addProperty("configured_link", configuredLink);
        args.addProperty("sub_mch_id", subMchId);
        args.addProperty("out_trade_no", outTradeNo);
        args.addProperty("transaction_id", transactionId);
        return args;
    }

    /**
     * The string whose MD5 is a merchant receipt's (商家小票) {@code check_code}: {@code
     * <configured_link>?sub_mch_id=...&out_trade_no=...&transaction_id=...}, the values exactly as
     * received (raw, not percent-decoded). For logs and support; compare codes with {@link
     * #verifyCheckCode}.
     */
    public static String checkCodeInput(String configuredLink, String subMchId, String outTradeNo,
            String transactionId) {
        return callLocal("check_code_input", checkCodeArgs(configuredLink, subMchId, outTradeNo, transactionId))
                .getAsString();
    }

    /**
     * The {@code check_code} WeChat appends to a merchant receipt link for an order: lower-case hex
     * MD5 of {@link #checkCodeInput}.
     */
    public static String expectedCheckCode(String configuredLink, String subMchId, String outTradeNo,
            String transactionId) {
        return callLocal("expected_check_code", checkCodeArgs(configuredLink, subMchId, outTradeNo, transactionId))
                .getAsString();
    }

    /** Whether a received {@code checkCode} is the one WeChat computed (constant time, any case). */
    public static boolean verifyCheckCode(String configuredLink, String subMchId, String outTradeNo,
            String transactionId, String checkCode) {
        JsonObject args = checkCodeArgs(configuredLink, subMchId, outTradeNo, transactionId);
        args.addProperty("check_code", checkCode);
        return callLocal("verify_check_code", args).getAsBoolean();
    }

    /**
     * Parses a received receipt URL (or its query): {@code sub_mch_id}, {@code out_trade_no} and
     * {@code check_code}, each {@code {raw, decoded}}; use the raw values for the check code.
     */
    public static Reply parseReceiptQuery(String url) {
        JsonObject args = new JsonObject();
        args.addProperty("url", url);
        return new Reply(GSON.toJson(callLocal("parse_receipt_query", args)), null);
    }

    /** The canonical URL line of a request target ({@code /path?query}): what is signed and sent. */
    public static String canonicalUrl(String pathAndQuery) {
        JsonObject args = new JsonObject();
        args.addProperty("path_and_query", pathAndQuery);
        return callLocal("canonical_url", args).getAsString();
    }

    /**
     * The string to sign of a request: {@code METHOD\nURL\nTIMESTAMP\nNONCE\nBODY\n}. {@code body}
     * may be {@code null} (none).
     */
    public static String messageToSign(String method, String canonicalUrl, long timestamp, String nonce,
            String body) {
        JsonObject args = new JsonObject();
        args.addProperty("method", method);
        args.addProperty("canonical_url", canonicalUrl);
        args.addProperty("timestamp", timestamp);
        args.addProperty("nonce", nonce);
        if (body != null) {
            args.addProperty("body", body);
        }
        return callLocal("message_to_sign", args).getAsString();
    }

    /**
     * The string to verify of a response or callback: {@code TIMESTAMP\nNONCE\nBODY\n}, the header
     * values as received. {@code body} may be {@code null} (none).
     */
    public static String messageToVerify(String timestamp, String nonce, String body) {
        JsonObject args = new JsonObject();
        args.addProperty("timestamp", timestamp);
        args.addProperty("nonce", nonce);
        if (body != null) {
            args.addProperty("body", body);
        }
        return callLocal("message_to_verify", args).getAsString();
    }

    /**
     * Decrypts and validates a {@code GET /v3/certificates} response and verifies its signature
     * against {@code trustedCertificates} (PEM; {@code null} or empty on a first download) plus the
     * downloaded ones. {@code now} (Unix seconds) may be {@code null} (the system clock). The
     * reply: {@code certificates} ({@code serial_no}, {@code not_before}, {@code not_after}, {@code
     * not_before_unix}, {@code not_after_unix}, {@code pem}), {@code dropped} and {@code
     * newest_serial}.
     *
     * @param headers the response headers as received, a name possibly repeated
     */
    public static Reply decryptCertificates(List<Map.Entry<String, String>> headers, String body, String apiv3Key,
            Long now, List<String> trustedCertificates) {
        if (headers == null) {
            throw new NullPointerException("headers is null");
        }
        JsonArray pairs = new JsonArray();
        for (Map.Entry<String, String> h : headers) {
            JsonArray pair = new JsonArray();
            pair.add(h.getKey());
            pair.add(h.getValue());
            pairs.add(pair);
        }
        JsonObject args = new JsonObject();
        args.add("headers", pairs);
        args.addProperty("body", body);
        args.addProperty("apiv3_key", apiv3Key);
        if (now != null) {
            args.addProperty("now", now);
        }
        if (trustedCertificates != null) {
            JsonArray trusted = new JsonArray();
            for (String pem : trustedCertificates) {
                trusted.add(pem);
            }
            args.add("trusted_certificates", trusted);
        }
        return new Reply(GSON.toJson(callLocal("decrypt_certificates", args)), null);
    }

    /** {@link #decryptCertificates(List, String, String, Long, List)} with headers as a map. */
    public static Reply decryptCertificates(Map<String, String> headers, String body, String apiv3Key, Long now,
            List<String> trustedCertificates) {
        if (headers == null) {
            throw new NullPointerException("headers is null");
        }
        return decryptCertificates(new java.util.ArrayList<>(headers.entrySet()), body, apiv3Key, now,
                trustedCertificates);
    }
}
