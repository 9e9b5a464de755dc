<?php

declare(strict_types=1);

namespace GoldPlan;

use GoldPlan\Internal\Headers;
use GoldPlan\Internal\Json;
use GoldPlan\Internal\Native;

/**
 * The protocol's pure functions (for tests against the spec's vectors and own HTTP stacks):
 * every helper of the operation registry that needs no client (`kind: local` in
 * bindings/operations.json), under its name in camelCase, plus the AEAD and Authorization
 * primitives. The helpers without a C function of their own run through the core's
 * goldplan_call_local, so their rules and messages are the core's.
 */
final class Protocol
{
    /** The string whose MD5 is a merchant receipt's check_code (raw, undecoded values). */
    public static function checkCodeInput(string $configuredLink, string $subMchId, string $outTradeNo, string $transactionId): string
    {
        return Native::callLocal('check_code_input', self::order($configuredLink, $subMchId, $outTradeNo, $transactionId));
    }

    /** The lower-case hex check_code WeChat computes for an order (raw, undecoded values). */
    public static function expectedCheckCode(string $configuredLink, string $subMchId, string $outTradeNo, string $transactionId): string
    {
        return Native::callLocal('expected_check_code', self::order($configuredLink, $subMchId, $outTradeNo, $transactionId));
    }

    /** Whether a received check_code is the expected one (constant time, any case). */
    public static function verifyCheckCode(string $configuredLink, string $subMchId, string $outTradeNo, string $transactionId, string $checkCode): bool
    {
        $args = self::order($configuredLink, $subMchId, $outTradeNo, $transactionId);
        $args['check_code'] = $checkCode;
        return Native::callLocal('verify_check_code', $args);
    }

    /**
     * The sub_mch_id, out_trade_no and check_code of a receipt page URL (or its query
     * string), each ["raw" => …, "decoded" => …].
     */
    public static function parseReceiptQuery(string $url): array
    {
        return Native::callLocal('parse_receipt_query', ['url' => $url]);
    }

    /**
     * Decrypts and validates a /v3/certificates response (headers as for
     * Client::parseNotification, the body exactly as received) and verifies its signature
     * with the certificates it carries and $trustedCertificates (PEM; none on a first
     * download). $now: Unix seconds to check at, 0 = now. Returns
     * ["certificates" => [[serial_no, not_before, not_after, …, pem], …]].
     *
     * @param list<string>|null $trustedCertificates
     */
    public static function decryptCertificates(array $headers, string $body, #[\SensitiveParameter] string $apiv3Key, int $now = 0, ?array $trustedCertificates = null): array
    {
        $args = ['headers' => Headers::pairs($headers), 'body' => $body, 'apiv3_key' => $apiv3Key];
        if ($now !== 0) {
            $args['now'] = $now;
        }
        if ($trustedCertificates !== null) {
            $args['trusted_certificates'] = array_values($trustedCertificates);
        }
        return Native::callLocal('decrypt_certificates', $args);
    }

    public static function messageToSign(string $method, string $canonicalUrl, int $timestamp, string $nonce, string $body = ""): string
    {
        return Native::string(
            'goldplan_message_to_sign',
            $method,
            \strlen($method),
            $canonicalUrl,
            \strlen($canonicalUrl),
            $timestamp,
            $nonce,
            \strlen($nonce),
            $body,
            \strlen($body),
        );
    }

    public static function messageToVerify(string $timestamp, string $nonce, string $body = ""): string
    {
        return Native::string('goldplan_message_to_verify', $timestamp, \strlen($timestamp), $nonce, \strlen($nonce), $body, \strlen($body));
    }

    public static function canonicalUrl(string $pathAndQuery): string
    {
        return Native::string('goldplan_canonical_url', $pathAndQuery, \strlen($pathAndQuery));
    }

    /** $fields: mchid, nonce_str, timestamp, serial_no, signature. */
    public static function authorizationHeader(array $fields): string
    {
        $json = Json::encode($fields, 'the Authorization fields');
        return Native::string('goldplan_authorization_header', $json, \strlen($json));
    }

    /** AEAD_AES_256_GCM: base64(ciphertext ‖ tag) → plaintext bytes. */
    public static function aeadDecrypt(#[\SensitiveParameter] string $apiv3Key, string $associatedData, string $nonce, string $ciphertext): string
    {
        return Native::bytes(
            'goldplan_aead_decrypt',
            $apiv3Key,
            \strlen($apiv3Key),
            $associatedData,
            \strlen($associatedData),
            $nonce,
            \strlen($nonce),
            $ciphertext,
            \strlen($ciphertext),
        );
    }

    /** AEAD_AES_256_GCM: plaintext → base64(ciphertext ‖ tag). */
    public static function aeadEncrypt(#[\SensitiveParameter] string $apiv3Key, string $associatedData, string $nonce, #[\SensitiveParameter] string $plaintext): string
    {
        return Native::string(
            'goldplan_aead_encrypt',
            $apiv3Key,
            \strlen($apiv3Key),
            $associatedData,
            \strlen($associatedData),
            $nonce,
            \strlen($nonce),
            $plaintext,
            \strlen($plaintext),
        );
    }

    /** @return array<string, string> the arguments of the check_code helpers */
    private static function order(string $configuredLink, string $subMchId, string $outTradeNo, string $transactionId): array
    {
        return ['configured_link' => $configuredLink, 'sub_mch_id' => $subMchId, 'out_trade_no' => $outTradeNo, 'transaction_id' => $transactionId];
    }
}
