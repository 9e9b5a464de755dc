<?php

/**
 * The PHP API of goldplan: one definition for both doors.
 *
 * - The native extension (bindings/php/ext) generates its arginfo from this file with PHP's
 *   build/gen_stub.php (ext/goldplan_arginfo.h is committed and checked for drift).
 * - The Composer package (bindings/php/src, over FFI) declares the same classes, methods,
 *   parameters, return types and constants; a test compares both with Reflection.
 *
 * Conventions: arrays in, arrays out (decoded JSON with the core's snake_case field names);
 * every failure is a GoldPlan\Exception\GoldPlanException subclass, one per error family.
 *
 * @generate-class-entries
 */

namespace GoldPlan {

    /** The library version of libgoldplan (e.g. "0.1.0"). */
    function version(): string {}

    /**
     * A WeChat Pay APIv3 client for one merchant. Create it once per process (per PHP-FPM
     * worker) and reuse it: it keeps connections and the platform certificates.
     * @strict-properties
     * @not-serializable
     */
    final class Client
    {
        /**
         * $config uses the core's configuration names: mchid, serial_no,
         *        private_key (PEM text or a path), apiv3_key, mode ("certificate", "public_key",
         *        "combined"), public_key_id, public_key, base_url, timeout_secs, …
         */
        public function __construct(array $config) {}

        /** A client from a JSON configuration file (a sandbox's sandbox.json works as is). */
        public static function fromFile(string $path): Client {}

        /** POST /v3/goldplan/merchants/changegoldplanstatus. */
        public function changeGoldPlanStatus(string $subMchid, string $operationType, ?string $operationPayScene = null): array {}

        /** POST /v3/goldplan/merchants/changecustompagestatus. */
        public function changeCustomPageStatus(string $subMchid, string $operationType): array {}

        /** POST /v3/goldplan/merchants/set-advertising-industry-filter (returns []). */
        public function setAdvertisingIndustryFilter(string $subMchid, array $advertisingIndustryFilters): array {}

        /** POST /v3/goldplan/merchants/open-advertising-show (returns []). */
        public function openAdvertisingShow(string $subMchid, ?array $advertisingIndustryFilters = null): array {}

        /** POST /v3/goldplan/merchants/close-advertising-show (returns []). */
        public function closeAdvertisingShow(string $subMchid): array {}

        /** POST /v3/merchant/media/upload: returns ["media_id" => …]. */
        public function uploadImage(string $filename, string $content): array {}

        /**
         * Any APIv3 call, signed and verified: returns status, request_id, serial, headers and
         * body (decoded JSON, or the text when it is not JSON). $body is an array sent as JSON,
         * or a string sent as is.
         */
        public function request(string $method, string $path, array|string|null $body = null, ?string $wechatpaySerial = null): array {}

        /**
         * Verifies and decrypts a callback from its headers and the raw body exactly as
         * received (file_get_contents('php://input')): id, create_time, event_type,
         * resource_type, summary, plaintext and resource (the plaintext decoded, or null).
         * $headers: name => value (or a list of values), or a list of [name, value] pairs.
         */
        public function parseNotification(array $headers, string $rawBody): array {}

        /** RSA-OAEP for WeChat Pay: ["ciphertext" => …, "wechatpay_serial" => …]. */
        public function encryptSensitive(string $plaintext): array {}

        /** Decrypts a sensitive field of a response with the merchant private key. */
        public function decryptSensitive(string $ciphertext): string {}

        /** Downloads the platform certificates now: ["certificates" => [[serial_no, not_before, not_after, pem], …]]. */
        public function refreshCertificates(): array {}

        /** One signed request that reports whether this configuration works at the gateway. */
        public function probe(): array {}

        /** The Request-ID of this client's last successful call, or null. */
        public function lastRequestId(): ?string {}
    }

    /**
     * Signs requests for callers that send them with their own HTTP stack.
     * @strict-properties
     * @not-serializable
     */
    final class Signer
    {
        /** $config: mchid, serial_no, private_key (PEM text or a path). */
        public function __construct(array $config) {}

        /** RSASSA-PKCS1-v1_5 SHA-256 over $message, base64. */
        public function sign(string $message): string {}

        /**
         * Signs a request (timestamp 0 = now): method, canonical_url, timestamp, nonce_str,
         * signature, authorization.
         */
        public function signRequest(string $method, string $pathAndQuery, string $body = "", int $timestamp = 0): array {}

        /** Decrypts a sensitive field with the signer's private key. */
        public function decryptSensitive(string $ciphertext): string {}
    }

    /**
     * Verifies WeChat Pay signatures of responses and callbacks.
     * @strict-properties
     * @not-serializable
     */
    final class Verifier
    {
        /**
         * $config: public_key_id + public_key, and/or
         *        platform_certificates (PEM strings).
         */
        public function __construct(array $config) {}

        /**
         * Verifies a response or callback over its raw body (now 0 = system clock, maxSkewSecs
         * 0 = 300): serial, timestamp, request_id.
         */
        public function verify(array $headers, string $rawBody, int $now = 0, int $maxSkewSecs = 0): array {}

        /** Verifies and decrypts a callback with the APIv3 key (like Client::parseNotification). */
        public function parseNotification(string $apiv3Key, array $headers, string $rawBody, int $now = 0, int $maxSkewSecs = 0): array {}

        /** RSA-OAEP to the public key, else the newest certificate: ciphertext, wechatpay_serial. */
        public function encryptSensitive(string $plaintext): array {}
    }

    /** The protocol's pure functions (for tests against the spec's vectors and own HTTP stacks). */
    final class Protocol
    {
        public static function messageToSign(string $method, string $canonicalUrl, int $timestamp, string $nonce, string $body): string {}

        public static function messageToVerify(string $timestamp, string $nonce, string $body): string {}

        public static function canonicalUrl(string $pathAndQuery): string {}

        /** $fields: mchid, nonce_str, timestamp, serial_no, signature. */
        public static function authorizationHeader(array $fields): string {}

        /** AEAD_AES_256_GCM: base64(ciphertext ‖ tag) → plaintext bytes. */
        public static function aeadDecrypt(string $apiv3Key, string $associatedData, string $nonce, string $ciphertext): string {}

        /** AEAD_AES_256_GCM: plaintext → base64(ciphertext ‖ tag). */
        public static function aeadEncrypt(string $apiv3Key, string $associatedData, string $nonce, string $plaintext): string {}
    }

    /** The merchant receipt (商家小票) page's check_code. */
    final class Receipt
    {
        /** The lower-case hex check_code WeChat computes for an order (raw, undecoded values). */
        public static function checkCode(string $configuredLink, string $subMchId, string $outTradeNo, string $transactionId): string {}

        /** Whether a received check_code is the expected one (constant time). */
        public static function verifyCheckCode(string $configuredLink, string $subMchId, string $outTradeNo, string $transactionId, string $checkCode): bool {}

        /** sub_mch_id, out_trade_no, check_code, each ["raw" => …, "decoded" => …]. */
        public static function parseUrl(string $url): array {}
    }
}

namespace GoldPlan\Exception {

    /**
     * Base of every goldplan exception. getCode() is WeChat Pay's error code (a string such
     * as "PARAM_ERROR") for API errors, as PDOException does with SQLSTATE, and 0 otherwise.
     */
    class GoldPlanException extends \RuntimeException
    {
        /** The precise error kind, e.g. "clock_skew", "api", "timeout". */
        protected string $kind = "internal";
        /** The family, e.g. "signature"; one exception class per family. */
        protected string $family = "internal";
        protected ?string $requestId = null;
        /** The HTTP status of an API error. */
        protected ?int $status = null;
        /** WeChat Pay's error detail of an API error (decoded JSON). */
        protected mixed $detail = null;
        protected bool $retryable = false;

        public function getKind(): string {}
        public function getFamily(): string {}
        public function getRequestId(): ?string {}
        public function getStatus(): ?int {}
        public function getDetail(): mixed {}
        public function isRetryable(): bool {}
    }

    class ConfigurationException extends GoldPlanException {}
    class InvalidInputException extends GoldPlanException {}
    class SignatureException extends GoldPlanException {}
    class SigningException extends GoldPlanException {}
    class EncryptionException extends GoldPlanException {}
    class DecryptionException extends GoldPlanException {}
    class CertificateException extends GoldPlanException {}
    class ReplayException extends GoldPlanException {}
    class DecodeException extends GoldPlanException {}
    class ApiException extends GoldPlanException {}
    class TransportException extends GoldPlanException {}
    class InternalException extends GoldPlanException {}
}
