<?php

declare(strict_types=1);

namespace GoldPlan;

use GoldPlan\Internal\Json;
use GoldPlan\Internal\Native;

/** The protocol's pure functions (for tests against the spec's vectors and own HTTP stacks). */
final class Protocol
{
    public static function messageToSign(string $method, string $canonicalUrl, int $timestamp, string $nonce, string $body): string
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

    public static function messageToVerify(string $timestamp, string $nonce, string $body): string
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
}
