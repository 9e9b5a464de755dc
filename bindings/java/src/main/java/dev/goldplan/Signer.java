package dev.goldplan;

import com.sun.jna.ptr.LongByReference;
import com.sun.jna.ptr.PointerByReference;

/**
 * The merchant identity that signs requests (mchid, certificate serial, private key), for code
 * that sends requests with its own HTTP stack; the signing happens in libgoldplan. Thread-safe;
 * {@link #close()} releases it.
 */
public final class Signer implements AutoCloseable {
    private static final GoldPlanNative LIB = GoldPlanNative.LIB;

    private final NativeHandle handle;

    private Signer(NativeHandle handle) {
        this.handle = handle;
    }

    /**
     * A signer from a JSON configuration with the client configuration's names: {@code mchid},
     * {@code serial_no}, {@code private_key} (PEM text or a path; {@code private_key_pem} and
     * {@code private_key_path} are also accepted), and optionally {@code merchant_certificate}
     * (which must match). Other fields of a client configuration are ignored.
     */
    public static Signer fromJson(String configJson) {
        byte[] json = GoldPlanClient.utf8(configJson);
        PointerByReference out = new PointerByReference();
        GoldPlanClient.check(LIB.goldplan_signer_new(json, json.length, out));
        return new Signer(new NativeHandle(out.getValue(), LIB::goldplan_signer_free, "Signer"));
    }

    /** Signs {@code message} (SHA256-RSA, PKCS#1 v1.5): the base64 signature. */
    public String sign(byte[] message) {
        byte[] m = bytes(message, "message");
        PointerByReference out = new PointerByReference();
        LongByReference len = new LongByReference();
        handle.with(s -> GoldPlanClient.check(LIB.goldplan_signer_sign(s, m, m.length, out, len)));
        return GoldPlanClient.takeString(out.getValue(), len.getValue());
    }

    /**
     * Signs a request with a fresh nonce at {@code timestamp} (Unix seconds; 0 = now). The reply
     * is {@code {method, canonical_url, timestamp, nonce_str, signature, authorization}}: send
     * exactly {@code canonical_url} and {@code body}, with {@code authorization} as the {@code
     * Authorization} header.
     */
    public Reply signRequest(String method, String pathAndQuery, byte[] body, long timestamp) {
        byte[] m = GoldPlanClient.utf8(method);
        byte[] p = GoldPlanClient.utf8(pathAndQuery);
        byte[] b = body == null ? new byte[0] : body;
        PointerByReference out = new PointerByReference();
        handle.with(s -> GoldPlanClient.check(LIB.goldplan_signer_sign_request(s, m, m.length, p, p.length, b,
                b.length, timestamp, out)));
        return GoldPlanClient.reply(out.getValue());
    }

    /** Decrypts a sensitive field (RSA-OAEP) with the merchant private key. */
    public String decryptSensitive(String ciphertext) {
        byte[] c = GoldPlanClient.utf8(ciphertext);
        PointerByReference out = new PointerByReference();
        LongByReference len = new LongByReference();
        handle.with(s -> GoldPlanClient.check(LIB.goldplan_signer_decrypt_sensitive(s, c, c.length, out, len)));
        return GoldPlanClient.takeString(out.getValue(), len.getValue());
    }

    /** Releases the native signer; later calls throw {@link IllegalStateException}. */
    @Override
    public void close() {
        handle.close();
    }

    static byte[] bytes(byte[] b, String name) {
        if (b == null) {
            throw new NullPointerException(name + " is null");
        }
        return b;
    }
}
