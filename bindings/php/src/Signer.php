<?php

declare(strict_types=1);

namespace GoldPlan;

use FFI\CData;
use GoldPlan\Internal\Failure;
use GoldPlan\Internal\Json;
use GoldPlan\Internal\Native;

/**
 * Signs requests for callers that send them with their own HTTP stack.
 */
final class Signer
{
    use Internal\Opaque;

    private ?CData $handle = null;
    private ?string $mchid = null;

    /** $config: mchid, serial_no, private_key (PEM text or a path). */
    public function __construct(#[\SensitiveParameter] array $config)
    {
        if ($this->handle !== null) {
            // A second call would leak the first handle; the extension refuses it alike.
            throw new \Error('GoldPlan\\Signer is already initialised');
        }
        $json = Json::encode($config, 'the configuration');
        $this->handle = Native::handleFromSecretJson('goldplan_signer', 'goldplan_signer_new', $json);
        $this->mchid = \is_string($config['mchid'] ?? null) ? $config['mchid'] : null;
    }

    /** RSASSA-PKCS1-v1_5 SHA-256 over $message, base64. */
    public function sign(string $message): string
    {
        return Native::string('goldplan_signer_sign', $this->handle(), $message, \strlen($message));
    }

    /**
     * Signs a request (timestamp 0 = now): method, canonical_url, timestamp, nonce_str,
     * signature, authorization.
     */
    public function signRequest(string $method, string $pathAndQuery, string $body = "", int $timestamp = 0): array
    {
        return Native::response(
            'goldplan_signer_sign_request',
            $this->handle(),
            $method,
            \strlen($method),
            $pathAndQuery,
            \strlen($pathAndQuery),
            $body,
            \strlen($body),
            $timestamp,
        )[0];
    }

    /** Decrypts a sensitive field with the signer's private key. */
    public function decryptSensitive(string $ciphertext): string
    {
        return Native::string('goldplan_signer_decrypt_sensitive', $this->handle(), $ciphertext, \strlen($ciphertext));
    }

    /** Nothing secret: the merchant number only. */
    public function __debugInfo(): array
    {
        return ['mchid' => $this->mchid];
    }

    public function __destruct()
    {
        if ($this->handle !== null) {
            Native::free('goldplan_signer_free', $this->handle);
            $this->handle = null;
        }
    }

    private function handle(): CData
    {
        return $this->handle ?? throw Failure::of('invalid_input', 'invalid_input', 'this GoldPlan\Signer was not constructed');
    }
}
