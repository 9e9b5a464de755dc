package dev.goldplan;

import com.sun.jna.ptr.PointerByReference;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Verifies WeChat Pay signatures of responses and callbacks with the WeChat Pay public key,
 * platform certificates, or both (routed by serial), for code with its own HTTP stack; the work
 * happens in libgoldplan. Thread-safe; {@link #close()} releases it.
 */
public final class Verifier implements AutoCloseable {
    private static final GoldPlanNative LIB = GoldPlanNative.LIB;

    private final NativeHandle handle;

    private Verifier(NativeHandle handle) {
        this.handle = handle;
    }

    /**
     * A verifier from JSON: {@code public_key_id} with {@code public_key} (PEM text or a path;
     * {@code public_key_pem} is also accepted; public-key mode), {@code platform_certificates} (an
     * array of PEM strings; certificate mode), or both (combined mode). Unknown fields are refused.
     */
    public static Verifier fromJson(String configJson) {
        byte[] json = GoldPlanClient.utf8(configJson);
        PointerByReference out = new PointerByReference();
        GoldPlanClient.check(LIB.goldplan_verifier_new(json, json.length, out));
        return new Verifier(new NativeHandle(out.getValue(), LIB::goldplan_verifier_free, "Verifier"));
    }

    /**
     * Verifies a signed response or callback over its raw body with the system clock and the
     * default 300 s window: {@code {serial, timestamp, request_id}}. A failure throws the {@code
     * "signature"} family with the precise kind ({@code clock_skew}, {@code unknown_serial}, ...).
     */
    public Reply verify(Map<String, String> headers, byte[] body) {
        return verify(GoldPlanClient.headersJson(headers), body, 0, 0);
    }

    /**
     * {@link #verify(Map, byte[])} for headers as received (names may repeat), with {@code now}
     * (Unix seconds; 0 = the system clock) and {@code maxSkewSecs} (0 = 300; else 1 to 86400).
     */
    public Reply verify(List<Map.Entry<String, String>> headers, byte[] body, long now, long maxSkewSecs) {
        return verify(GoldPlanClient.headersJson(headers), body, now, maxSkewSecs);
    }

    private Reply verify(byte[] h, byte[] body, long now, long maxSkewSecs) {
        byte[] b = Signer.bytes(body, "body");
        PointerByReference out = new PointerByReference();
        handle.with(v -> GoldPlanClient.check(LIB.goldplan_verifier_verify(v, h, h.length, b, b.length, now,
                maxSkewSecs, out)));
        return GoldPlanClient.reply(out.getValue());
    }

    /**
     * Checks a base64 {@code signatureBase64} over {@code message} with the key named {@code
     * serial} (a certificate serial or a {@code PUB_KEY_ID_...}); throws the {@code "signature"}
     * family when it does not verify.
     */
    public void checkSignature(String serial, byte[] message, String signatureBase64) {
        byte[] s = GoldPlanClient.utf8(serial);
        byte[] m = Signer.bytes(message, "message");
        byte[] sig = GoldPlanClient.utf8(signatureBase64);
        handle.with(v -> GoldPlanClient.check(LIB.goldplan_verifier_check_signature(v, s, s.length, m, m.length, sig,
                sig.length)));
    }

    /**
     * Verifies and decrypts a callback with this verifier and the 32-character APIv3 key, like
     * {@link GoldPlanClient#parseNotification(Map, byte[], ReplayGuard)}: a callback {@code guard}
     * (may be {@code null}) reports as processed throws the {@code "replay"} family.
     */
    public Reply parseNotification(String apiv3Key, Map<String, String> headers, byte[] body, ReplayGuard guard) {
        return parse(apiv3Key, GoldPlanClient.headersJson(headers), body, 0, 0, guard);
    }

    /**
     * {@link #parseNotification(String, Map, byte[], ReplayGuard)} for headers as received (names
     * may repeat), with {@code now} (0 = the system clock) and {@code maxSkewSecs} (0 = 300).
     */
    public Reply parseNotification(String apiv3Key, List<Map.Entry<String, String>> headers, byte[] body, long now,
            long maxSkewSecs, ReplayGuard guard) {
        return parse(apiv3Key, GoldPlanClient.headersJson(headers), body, now, maxSkewSecs, guard);
    }

    private Reply parse(String apiv3Key, byte[] h, byte[] body, long now, long maxSkewSecs, ReplayGuard guard) {
        byte[] key = GoldPlanClient.utf8(apiv3Key);
        byte[] b = Signer.bytes(body, "body");
        try {
            return GoldPlanClient.parseGuarded(guard, (g, hook, out) -> handle.with(v -> GoldPlanClient.check(
                    LIB.goldplan_verifier_parse_notification_with_guard(v, key, key.length, h, h.length, b, b.length,
                            now, maxSkewSecs, g, hook, null, out))));
        } finally {
            // The key's bytes are wiped; the String itself is the caller's to keep or drop.
            Arrays.fill(key, (byte) 0);
        }
    }

    /**
     * Encrypts a sensitive field (RSA-OAEP) to the WeChat Pay public key, else the newest platform
     * certificate: {@code {ciphertext, wechatpay_serial}}.
     */
    public Reply encryptSensitive(String plaintext) {
        byte[] p = GoldPlanClient.utf8(plaintext);
        PointerByReference out = new PointerByReference();
        handle.with(v -> GoldPlanClient.check(LIB.goldplan_verifier_encrypt_sensitive(v, p, p.length, out)));
        return GoldPlanClient.reply(out.getValue());
    }

    /** Releases the native verifier; later calls throw {@link IllegalStateException}. */
    @Override
    public void close() {
        handle.close();
    }
}
