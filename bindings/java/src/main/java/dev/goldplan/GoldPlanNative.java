package dev.goldplan;

import com.sun.jna.Callback;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.ByteByReference;
import com.sun.jna.ptr.LongByReference;
import com.sun.jna.ptr.PointerByReference;

/**
 * The part of goldplan.h that the Java API uses, mapped by JNA. Strings cross as UTF-8 bytes with
 * their length; {@code size_t} is a Java {@code long} (64-bit platforms). Every function returns
 * a goldplan_status ({@code 0} = OK).
 */
interface GoldPlanNative extends Library {
    /**
     * The library: the copy this jar carries ({@code linux-x86-64/libgoldplan.so}, extracted by
     * JNA), unless {@code jna.library.path} or the system's library path has one first.
     */
    GoldPlanNative LIB = Native.load("goldplan", GoldPlanNative.class);

    int goldplan_version(PointerByReference out, LongByReference outLen);

    int goldplan_string_free(Pointer s);

    int goldplan_last_error_report(PointerByReference out, LongByReference outLen);

    int goldplan_client_new(byte[] configJson, long configJsonLen, PointerByReference out);

    int goldplan_client_new_from_file(byte[] path, long pathLen, PointerByReference out);

    int goldplan_client_free(Pointer client);

    int goldplan_client_call(Pointer client, byte[] operation, long operationLen, byte[] argsJson,
            long argsJsonLen, PointerByReference out);

    int goldplan_call_local(byte[] operation, long operationLen, byte[] argsJson, long argsJsonLen,
            PointerByReference out);

    int goldplan_client_probe(Pointer client, PointerByReference out);

    int goldplan_client_refresh_certificates(Pointer client, PointerByReference out);

    /**
     * goldplan_replay_hook: whether the notification id ({@code idLen} UTF-8 bytes) was processed
     * to completion. C's {@code bool} is one byte: 1 or 0.
     */
    interface ReplayHook extends Callback {
        byte invoke(Pointer context, Pointer id, long idLen);
    }

    int goldplan_client_parse_notification_with_guard(Pointer client, byte[] headersJson, long headersJsonLen,
            byte[] body, long bodyLen, Pointer replayGuard, ReplayHook hook, Pointer hookContext,
            PointerByReference out);

    int goldplan_replay_guard_new(long capacity, PointerByReference out);

    int goldplan_replay_guard_record_processed(Pointer replayGuard, byte[] id, long idLen);

    int goldplan_replay_guard_is_processed(Pointer replayGuard, byte[] id, long idLen, ByteByReference processed);

    int goldplan_replay_guard_free(Pointer replayGuard);

    int goldplan_bytes_free(Pointer b);

    int goldplan_signer_new(byte[] configJson, long configJsonLen, PointerByReference out);

    int goldplan_signer_free(Pointer signer);

    int goldplan_signer_sign(Pointer signer, byte[] message, long messageLen, PointerByReference out,
            LongByReference outLen);

    int goldplan_signer_sign_request(Pointer signer, byte[] method, long methodLen, byte[] pathAndQuery,
            long pathAndQueryLen, byte[] body, long bodyLen, long timestamp, PointerByReference out);

    int goldplan_signer_decrypt_sensitive(Pointer signer, byte[] ciphertext, long ciphertextLen,
            PointerByReference out, LongByReference outLen);

    int goldplan_verifier_new(byte[] configJson, long configJsonLen, PointerByReference out);

    int goldplan_verifier_free(Pointer verifier);

    int goldplan_verifier_verify(Pointer verifier, byte[] headersJson, long headersJsonLen, byte[] body,
            long bodyLen, long now, long maxSkewSecs, PointerByReference out);

    int goldplan_verifier_check_signature(Pointer verifier, byte[] serial, long serialLen, byte[] message,
            long messageLen, byte[] signatureBase64, long signatureBase64Len);

    int goldplan_verifier_parse_notification_with_guard(Pointer verifier, byte[] apiv3Key, long apiv3KeyLen,
            byte[] headersJson, long headersJsonLen, byte[] body, long bodyLen, long now, long maxSkewSecs,
            Pointer replayGuard, ReplayHook hook, Pointer hookContext, PointerByReference out);

    int goldplan_verifier_encrypt_sensitive(Pointer verifier, byte[] plaintext, long plaintextLen,
            PointerByReference out);

    int goldplan_client_encrypt_sensitive(Pointer client, byte[] plaintext, long plaintextLen,
            PointerByReference out);

    int goldplan_client_decrypt_sensitive(Pointer client, byte[] ciphertext, long ciphertextLen,
            PointerByReference out, LongByReference outLen);

    int goldplan_response_json(Pointer response, PointerByReference out, LongByReference outLen);

    int goldplan_response_request_id(Pointer response, PointerByReference out, LongByReference outLen);

    int goldplan_response_free(Pointer response);
}
