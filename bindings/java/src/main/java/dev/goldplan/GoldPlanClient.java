package dev.goldplan;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.LongByReference;
import com.sun.jna.ptr.PointerByReference;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A WeChat Pay APIv3 client for one merchant, over libgoldplan (signing, verification, certificate
 * rotation, retries and the Gold Plan calls all happen in the library). Thread-safe: share one
 * instance. {@link #close()} waits for calls in flight, then releases the native client.
 */
public final class GoldPlanClient implements AutoCloseable {
    private static final GoldPlanNative LIB = GoldPlanNative.LIB;
    private static final Gson GSON = new Gson();

    /** Calls hold the read lock while they use the native handle; close takes the write lock. */
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private Pointer handle;

    private GoldPlanClient(Pointer handle) {
        this.handle = handle;
    }

    /**
     * A client configured by JSON with the core's field names: {@code mchid}, {@code serial_no},
     * {@code private_key} (PEM text or the path of the file), {@code apiv3_key}, {@code
     * public_key_id}, {@code public_key} (PEM or path), {@code mode}, {@code base_url}, {@code
     * timeout} (seconds), ... The older spellings ({@code private_key_pem}, {@code
     * private_key_path}, {@code public_key_pem}, {@code public_key_path}, {@code certificate_pem},
     * {@code timeout_secs}, {@code connect_timeout_secs}) are also accepted, one per setting.
     */
    public static GoldPlanClient fromJson(String configJson) {
        byte[] json = utf8(configJson);
        PointerByReference out = new PointerByReference();
        check(LIB.goldplan_client_new(json, json.length, out));
        return new GoldPlanClient(out.getValue());
    }

    /** A client configured by a JSON file (a sandbox's {@code sandbox.json} works as is). */
    public static GoldPlanClient fromFile(String path) {
        byte[] p = utf8(path);
        PointerByReference out = new PointerByReference();
        check(LIB.goldplan_client_new_from_file(p, p.length, out));
        return new GoldPlanClient(out.getValue());
    }

    /** The library version. */
    public static String version() {
        PointerByReference out = new PointerByReference();
        LongByReference len = new LongByReference();
        check(LIB.goldplan_version(out, len));
        return text(out.getValue(), len.getValue());
    }

    /** Runs an operation of the JSON surface by its stable name with JSON arguments. */
    public Reply call(String operation, String argsJson) {
        byte[] op = utf8(operation);
        byte[] args = utf8(argsJson);
        PointerByReference out = new PointerByReference();
        with(ptr -> LIB.goldplan_client_call(ptr, op, op.length, args, args.length, out));
        return reply(out.getValue());
    }

    private Reply call(String operation, JsonObject args) {
        return call(operation, GSON.toJson(args));
    }

    private static JsonObject sub(String subMchid) {
        JsonObject o = new JsonObject();
        o.addProperty("sub_mchid", subMchid);
        return o;
    }

    private static JsonArray list(List<String> values) {
        JsonArray a = new JsonArray();
        for (String v : values) {
            a.add(v);
        }
        return a;
    }

    /**
     * 点金计划管理: opens ({@code "OPEN"}) or closes ({@code "CLOSE"}) Gold Plan for a special
     * merchant; {@code operationPayScene} ({@code "JSAPI"}, {@code "MINIPROGRAM"}, {@code
     * "JSAPI_AND_MINIPROGRAM"}) may be null.
     */
    public Reply changeGoldPlanStatus(String subMchid, String operationType, String operationPayScene) {
        JsonObject args = sub(subMchid);
        args.addProperty("operation_type", operationType);
        if (operationPayScene != null) {
            args.addProperty("operation_pay_scene", operationPayScene);
        }
        return call("change_gold_plan_status", args);
    }

    /** 商家小票管理: turns the merchant receipt on ({@code "OPEN"}) or off ({@code "CLOSE"}). */
    public Reply changeCustomPageStatus(String subMchid, String operationType) {
        JsonObject args = sub(subMchid);
        args.addProperty("operation_type", operationType);
        return call("change_custom_page_status", args);
    }

    /** 同业过滤标签管理: replaces the industry filter (1 to 3 tags such as {@code "SOFTWARE"}). */
    public Reply setAdvertisingIndustryFilter(String subMchid, List<String> filters) {
        JsonObject args = sub(subMchid);
        args.add("advertising_industry_filters", list(filters));
        return call("set_advertising_industry_filter", args);
    }

    /** 开通广告展示: turns ad display on, optionally with up to 3 industry tags (may be null). */
    public Reply openAdvertisingShow(String subMchid, List<String> filters) {
        JsonObject args = sub(subMchid);
        if (filters != null) {
            args.add("advertising_industry_filters", list(filters));
        }
        return call("open_advertising_show", args);
    }

    /** 关闭广告展示: turns ad display off. */
    public Reply closeAdvertisingShow(String subMchid) {
        return call("close_advertising_show", sub(subMchid));
    }

    /**
     * Any signed APIv3 call; {@code bodyJson} (may be null) is sent compactly. The result is
     * {@code {status, request_id, serial, headers, body}} with the verified body decoded.
     */
    public Reply request(String method, String path, String bodyJson) {
        JsonObject args = new JsonObject();
        args.addProperty("method", method);
        args.addProperty("path", path);
        if (bodyJson != null) {
            args.add("body", JsonParser.parseString(bodyJson));
        }
        return call("request", args);
    }

    /** Reports whether this configuration works against the gateway (never throws for a failed check). */
    public Reply probe() {
        PointerByReference out = new PointerByReference();
        with(ptr -> LIB.goldplan_client_probe(ptr, out));
        return reply(out.getValue());
    }

    /** Downloads the platform certificates now (certificate and combined modes). */
    public Reply refreshCertificates() {
        PointerByReference out = new PointerByReference();
        with(ptr -> LIB.goldplan_client_refresh_certificates(ptr, out));
        return reply(out.getValue());
    }

    /**
     * Verifies and decrypts a callback from its headers and its body exactly as received. The
     * result has {@code id}, {@code event_type}, {@code summary}, {@code plaintext} and {@code
     * resource} (the decrypted resource as JSON).
     */
    public Reply parseNotification(Map<String, String> headers, byte[] body) {
        byte[] h = utf8(GSON.toJson(headers));
        PointerByReference out = new PointerByReference();
        with(ptr -> LIB.goldplan_client_parse_notification(ptr, h, h.length, body, body.length, out));
        return reply(out.getValue(), true);
    }

    /** Encrypts a sensitive field: {@code {ciphertext, wechatpay_serial}}. */
    public Reply encryptSensitive(String plaintext) {
        byte[] p = utf8(plaintext);
        PointerByReference out = new PointerByReference();
        with(ptr -> LIB.goldplan_client_encrypt_sensitive(ptr, p, p.length, out));
        return reply(out.getValue());
    }

    /** Decrypts a sensitive field of a response with the merchant private key. */
    public String decryptSensitive(String ciphertext) {
        byte[] c = utf8(ciphertext);
        PointerByReference out = new PointerByReference();
        LongByReference len = new LongByReference();
        with(ptr -> LIB.goldplan_client_decrypt_sensitive(ptr, c, c.length, out, len));
        try {
            return text(out.getValue(), len.getValue());
        } finally {
            LIB.goldplan_string_free(out.getValue());
        }
    }

    /** Releases the native client; later calls throw {@link IllegalStateException}. */
    @Override
    public void close() {
        lock.writeLock().lock();
        try {
            if (handle != null) {
                LIB.goldplan_client_free(handle);
                handle = null;
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** A native call with the live handle. */
    private interface NativeCall {
        int run(Pointer client);
    }

    /** Runs {@code call} with the handle, which cannot be freed meanwhile; throws on failure. */
    private void with(NativeCall call) {
        lock.readLock().lock();
        try {
            if (handle == null) {
                throw new IllegalStateException("the GoldPlanClient is closed");
            }
            check(call.run(handle));
        } finally {
            lock.readLock().unlock();
        }
    }

    private static byte[] utf8(String s) {
        if (s == null) {
            throw new NullPointerException("argument is null");
        }
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String text(Pointer p, long len) {
        return new String(p.getByteArray(0, (int) len), StandardCharsets.UTF_8);
    }

    /** Reads and frees a response handle. */
    private static Reply reply(Pointer response) {
        return reply(response, false);
    }

    /** Reads and frees a response handle; {@code decrypted} when it holds a decrypted callback. */
    private static Reply reply(Pointer response, boolean decrypted) {
        try {
            PointerByReference out = new PointerByReference();
            LongByReference len = new LongByReference();
            check(LIB.goldplan_response_json(response, out, len));
            String json = text(out.getValue(), len.getValue());
            check(LIB.goldplan_response_request_id(response, out, len));
            String id = out.getValue() == null ? null : text(out.getValue(), len.getValue());
            return new Reply(json, id, decrypted);
        } finally {
            LIB.goldplan_response_free(response);
        }
    }

    /**
     * Throws the calling thread's last error when {@code status} is not OK. JNA calls run on the
     * calling thread, so the thread-local report is the one of this call.
     */
    static void check(int status) {
        if (status == 0) {
            return;
        }
        PointerByReference out = new PointerByReference();
        LongByReference len = new LongByReference();
        String report = "{}";
        if (LIB.goldplan_last_error_report(out, len) == 0) {
            report = text(out.getValue(), len.getValue());
            LIB.goldplan_string_free(out.getValue());
        }
        throw new GoldPlanException(status, report);
    }
}
