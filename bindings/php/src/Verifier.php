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
        if ($this->handle !== null) {
            // A second call would leak the first handle; the extension refuses it alike.
            throw new \Error('GoldPlan\\Verifier is already initialised');
        }
        $json = Json::encode($config, 'the configuration');
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

    /**
     * Verifies and decrypts a callback with the APIv3 key (like Client::parseNotification,
     * $replayGuard included: fn(string $notificationId): bool, true throws ReplayException).
     */
    public function parseNotification(#[\SensitiveParameter] string $apiv3Key, array $headers, string $rawBody, int $now = 0, int $maxSkewSecs = 0, ?callable $replayGuard = null): array
    {
        $json = Headers::json($headers);
        return Native::notification(
            'goldplan_verifier_parse_notification_with_guard',
            $replayGuard,
            $this->handle(),
            $apiv3Key,
            \strlen($apiv3Key),
            $json,
            \strlen($json),
            $rawBody,
            \strlen($rawBody),
            $now,
            $maxSkewSecs,
        );
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

    private function handle(): CData
    {
        return $this->handle ?? throw Failure::of('invalid_input', 'invalid_input', 'this GoldPlan\Verifier was not constructed');
    }
}
