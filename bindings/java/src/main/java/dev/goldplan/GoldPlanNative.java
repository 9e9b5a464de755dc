package dev.goldplan;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.LongByReference;
import com.sun.jna.ptr.PointerByReference;

/**
 * The part of goldplan.h that the Java API uses, mapped by JNA. Strings cross as UTF-8 bytes with
 * their length; {@code size_t} is a Java {@code long} (64-bit platforms). Every function returns
 * a goldplan_status ({@code 0} = OK).
 */
interface GoldPlanNative extends Library {
    /** The library, found on {@code jna.library.path} or the system's library path. */
    GoldPlanNative LIB = Native.load("goldplan", GoldPlanNative.class);

    int goldplan_version(PointerByReference out, LongByReference outLen);

    int goldplan_string_free(Pointer s);

    int goldplan_last_error_report(PointerByReference out, LongByReference outLen);

    int goldplan_client_new(byte[] configJson, long configJsonLen, PointerByReference out);

    int goldplan_client_new_from_file(byte[] path, long pathLen, PointerByReference out);

    int goldplan_client_free(Pointer client);

    int goldplan_client_call(Pointer client, byte[] operation, long operationLen, byte[] argsJson,
            long argsJsonLen, PointerByReference out);

    int goldplan_client_probe(Pointer client, PointerByReference out);

    int goldplan_client_refresh_certificates(Pointer client, PointerByReference out);

    int goldplan_client_parse_notification(Pointer client, byte[] headersJson, long headersJsonLen,
            byte[] body, long bodyLen, PointerByReference out);

    int goldplan_client_encrypt_sensitive(Pointer client, byte[] plaintext, long plaintextLen,
            PointerByReference out);

    int goldplan_client_decrypt_sensitive(Pointer client, byte[] ciphertext, long ciphertextLen,
            PointerByReference out, LongByReference outLen);

    int goldplan_response_json(Pointer response, PointerByReference out, LongByReference outLen);

    int goldplan_response_request_id(Pointer response, PointerByReference out, LongByReference outLen);

    int goldplan_response_free(Pointer response);
}
