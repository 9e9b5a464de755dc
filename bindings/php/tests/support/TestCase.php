<?php

declare(strict_types=1);

namespace GoldPlan\Tests\Support;

use GoldPlan\Exception\GoldPlanException;

/** Shared helpers of the PHPUnit suite: vectors, keys, and typed failures. */
abstract class TestCase extends \PHPUnit\Framework\TestCase
{
    public const VECTORS = __DIR__ . '/../../../../tests/vectors';
    public const SUB = '1900000109';

    /** @return array<string, mixed> */
    protected static function vector(string $name): array
    {
        $data = json_decode((string) file_get_contents(self::VECTORS . "/$name"), true, 512, JSON_THROW_ON_ERROR);
        self::assertSame(1, $data['format_version'] ?? null, "$name: unknown format_version");
        return $data;
    }

    protected static function vectorFile(string $relative): string
    {
        return (string) file_get_contents(self::VECTORS . '/' . $relative);
    }

    /**
     * Runs $f, which must throw $class (a GoldPlanException) with $kind when given.
     * @param class-string<GoldPlanException> $class
     */
    protected static function failure(callable $f, string $class, ?string $kind = null): GoldPlanException
    {
        try {
            $f();
        } catch (GoldPlanException $e) {
            self::assertInstanceOf($class, $e, get_class($e) . " ({$e->getKind()}): {$e->getMessage()}");
            if ($kind !== null) {
                self::assertSame($kind, $e->getKind(), $e->getMessage());
            }
            self::assertNotSame('', $e->getMessage());
            return $e;
        }
        self::fail("expected $class" . ($kind ? " ($kind)" : ''));
    }

    /** A sandbox client with overrides of sandbox.json. */
    protected static function client(Sandbox $sandbox, array $overrides = []): \GoldPlan\Client
    {
        return new \GoldPlan\Client(array_merge($sandbox->config, $overrides));
    }

    public const GATEWAY_KEY_ID = 'PUB_KEY_ID_0114232134912410000000000000000001';

    /**
     * Headers of a body signed like WeChat Pay signs (PHP's openssl, independent of the
     * library) with the test WeChat Pay public-key key pair of tests/vectors/keys.
     * @return array<string, string>
     */
    protected static function signedHeaders(string $body, ?int $timestamp = null): array
    {
        $timestamp ??= time();
        $nonce = bin2hex(random_bytes(16));
        $key = openssl_pkey_get_private(self::vectorFile('keys/wechatpay_test_pubkey_key.pem'));
        self::assertTrue(openssl_sign("$timestamp\n$nonce\n$body\n", $signature, $key, OPENSSL_ALGO_SHA256));
        return [
            'Wechatpay-Timestamp' => (string) $timestamp,
            'Wechatpay-Nonce' => $nonce,
            'Wechatpay-Serial' => self::GATEWAY_KEY_ID,
            'Wechatpay-Signature' => base64_encode($signature),
            'Wechatpay-Signature-Type' => 'WECHATPAY2-SHA256-RSA2048',
            'Request-ID' => 'test-request-id',
        ];
    }

    /** A callback body whose resource is $resource sealed with $apiv3Key (PHP's openssl). */
    protected static function notificationBody(string $apiv3Key, array $resource, string $id = 'EV-test-1'): string
    {
        $nonce = substr(bin2hex(random_bytes(6)), 0, 12);
        $ciphertext = openssl_encrypt(json_encode($resource), 'aes-256-gcm', $apiv3Key, OPENSSL_RAW_DATA, $nonce, $tag, 'transaction');
        return json_encode([
            'id' => $id,
            'create_time' => '2024-05-06T10:11:12+08:00',
            'resource_type' => 'encrypt-resource',
            'event_type' => 'TRANSACTION.SUCCESS',
            'summary' => '支付成功',
            'resource' => [
                'original_type' => 'transaction',
                'algorithm' => 'AEAD_AES_256_GCM',
                'ciphertext' => base64_encode($ciphertext . $tag),
                'associated_data' => 'transaction',
                'nonce' => $nonce,
            ],
        ], JSON_UNESCAPED_UNICODE);
    }

    /** A client configuration in public-key mode with the vector keys, for $baseUrl. */
    protected static function vectorConfig(string $baseUrl): array
    {
        return [
            'mchid' => '1900000100',
            'serial_no' => '3775B6A45ACD588826D15E583A95F5DD12345678',
            'private_key' => self::VECTORS . '/keys/merchant_test_key.pem',
            'apiv3_key' => '0123456789abcdefghijklmnopqrstuv',
            'public_key_id' => self::GATEWAY_KEY_ID,
            'public_key' => self::VECTORS . '/keys/wechatpay_test_pubkey.pem',
            'base_url' => $baseUrl,
            'max_attempts' => 1,
        ];
    }
}
