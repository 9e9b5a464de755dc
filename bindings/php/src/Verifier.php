<?php

declare(strict_types=1);

namespace GoldPlan;

use FFI\CData;
use GoldPlan\Internal\Failure;
use GoldPlan\Internal\Headers;
use GoldPlan\Internal\Json;
use GoldPlan\Internal\Native;

/**
 * Verifies WeChat Pay signatures of responses and callbacks.
 */
final class Verifier
{
    use Internal\Opaque;

    private ?CData $handle = null;

    /**
     * $config: public_key_id + public_key, and/or
     *        platform_certificates (PEM strings).
     */
    public function __construct(#[\SensitiveParameter] array $config)
    {
        $json = Json::encode(self::wire($config), 'the configuration');
        $this->handle = Native::handle('goldplan_verifier', 'goldplan_verifier_new', $json, \strlen($json));
    }

    /**
     * Verifies a response or callback over its raw body (now 0 = system clock, maxSkewSecs
     * 0 = 300): serial, timestamp, request_id.
     */
    public function verify(array $headers, string $rawBody, int $now = 0, int $maxSkewSecs = 0): array
    {
        $json = Headers::json($headers);
        return Native::response('goldplan_verifier_verify', $this->handle(), $json, \strlen($json), $rawBody, \strlen($rawBody), $now, $maxSkewSecs)[0];
    }

    /** Verifies and decrypts a callback with the APIv3 key (like Client::parseNotification). */
    public function parseNotification(#[\SensitiveParameter] string $apiv3Key, array $headers, string $rawBody, int $now = 0, int $maxSkewSecs = 0): array
    {
        $json = Headers::json($headers);
        return Native::response(
            'goldplan_verifier_parse_notification',
            $this->handle(),
            $apiv3Key,
            \strlen($apiv3Key),
            $json,
            \strlen($json),
            $rawBody,
            \strlen($rawBody),
            $now,
            $maxSkewSecs,
        )[0];
    }

    /** RSA-OAEP to the public key, else the newest certificate: ciphertext, wechatpay_serial. */
    public function encryptSensitive(#[\SensitiveParameter] string $plaintext): array
    {
        return Native::response('goldplan_verifier_encrypt_sensitive', $this->handle(), $plaintext, \strlen($plaintext))[0];
    }

    public function __debugInfo(): array
    {
        return [];
    }

    public function __destruct()
    {
        if ($this->handle !== null) {
            Native::free('goldplan_verifier_free', $this->handle);
            $this->handle = null;
        }
    }

    /**
     * The library's verifier reads public_key_pem; the client's spelling public_key (PEM
     * text or a path, as in a client configuration) and public_key_path are accepted too.
     *
     * @param array<mixed> $config
     * @return array<mixed>
     */
    private static function wire(#[\SensitiveParameter] array $config): array
    {
        $given = array_values(array_intersect(['public_key', 'public_key_pem', 'public_key_path'], array_keys($config)));
        if (\count($given) > 1) {
            throw Failure::of('configuration', 'configuration', 'the WeChat Pay public key is given more than once (' . implode(', ', $given) . '): keep one');
        }
        if ($given === [] || $given[0] === 'public_key_pem') {
            return $config;
        }
        $value = $config[$given[0]];
        unset($config[$given[0]]);
        if (\is_string($value) && ($given[0] === 'public_key_path' || !str_contains($value, '-----BEGIN'))) {
            $text = is_file($value) ? @file_get_contents($value) : false;
            if (!\is_string($text)) {
                throw Failure::of('configuration', 'configuration', "cannot read the WeChat Pay public key file $value");
            }
            $value = $text;
        }
        $config['public_key_pem'] = $value;
        return $config;
    }

    private function handle(): CData
    {
        return $this->handle ?? throw Failure::of('invalid_input', 'invalid_input', 'this GoldPlan\Verifier was not constructed');
    }
}
