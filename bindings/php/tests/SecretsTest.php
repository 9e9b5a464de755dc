<?php

declare(strict_types=1);

namespace GoldPlan\Tests;

use GoldPlan\Client;
use GoldPlan\Exception\GoldPlanException;
use GoldPlan\Protocol;
use GoldPlan\Signer;
use GoldPlan\Tests\Support\TestCase;
use GoldPlan\Verifier;

/** The private key and the APIv3 key never show: not in messages, traces or debug output. */
final class SecretsTest extends TestCase
{
    private const APIV3 = '0123456789abcdefghijklmnopqrstuv';

    /** Everything PHP can show of a value. */
    private static function shown(mixed $value): string
    {
        ob_start();
        var_dump($value);
        print_r($value);
        echo "\n", var_export($value, true), "\n";
        var_dump((array) $value);
        echo json_encode($value), "\n", serialize_safe($value);
        return (string) ob_get_clean();
    }

    private static function assertNoSecret(string $text, string $keyPem): void
    {
        $keyBody = explode("\n", trim($keyPem))[1];
        self::assertStringNotContainsString($keyBody, $text);
        self::assertStringNotContainsString('PRIVATE KEY', $text);
        self::assertStringNotContainsString(self::APIV3, $text);
        self::assertStringNotContainsString(substr(self::APIV3, 0, 15), $text);
    }

    public function testObjectsShowNothingSecret(): void
    {
        $pem = self::vectorFile('keys/merchant_test_key.pem');
        $client = new Client(['private_key' => $pem] + self::vectorConfig('http://127.0.0.1:9'));
        $signer = new Signer(['private_key' => $pem] + self::vectorConfig(''));
        $verifier = new Verifier(['public_key_id' => self::GATEWAY_KEY_ID, 'public_key' => self::vectorFile('keys/wechatpay_test_pubkey.pem')]);
        foreach ([$client, $signer, $verifier] as $object) {
            self::assertNoSecret(self::shown($object), $pem);
        }
    }

    public function testMessagesAndTracesCarryNoSecret(): void
    {
        $pem = self::vectorFile('keys/merchant_test_key.pem');
        $label = implode(' ', ['PRIVATE', 'KEY']);
        $failures = [
            // a 31-character APIv3 key
            fn () => new Client(['apiv3_key' => substr(self::APIV3, 0, 31), 'private_key' => $pem] + self::vectorConfig('')),
            // a damaged key: its armour is assembled here so no key header is spelt out
            fn () => new Client(['private_key' => "-----BEGIN $label-----\n" . substr(self::APIV3, 0, 31) . "\n-----END $label-----\n"] + self::vectorConfig('')),
            fn () => new Signer(['private_key' => substr($pem, 0, 200), 'mchid' => '1', 'serial_no' => 'x']),
            fn () => Protocol::aeadDecrypt(self::APIV3, 'ad', 'nonce', 'bm90IGEgY2lwaGVydGV4dA=='),
            fn () => Protocol::aeadEncrypt(self::APIV3, 'ad', 'short', 'secret plaintext'),
            fn () => (new Verifier(['public_key_id' => self::GATEWAY_KEY_ID, 'public_key' => self::vectorFile('keys/wechatpay_test_pubkey.pem')]))
                ->parseNotification(self::APIV3, ['Wechatpay-Nonce' => "\xff"], '{}'),
        ];
        // Traces with their arguments, as a development php.ini shows them.
        $previous = [ini_set('zend.exception_ignore_args', '0'), ini_set('zend.exception_string_param_max_len', '15')];
        try {
            foreach ($failures as $i => $f) {
                try {
                    $f();
                    self::fail("case $i did not fail");
                } catch (GoldPlanException $e) {
                    self::assertNoSecret($e->getMessage() . "\n" . $e . "\n" . self::shown($e->getTrace()), $pem);
                    self::assertStringNotContainsString('secret plaintext', (string) $e);
                }
            }
        } finally {
            ini_set('zend.exception_ignore_args', (string) $previous[0]);
            ini_set('zend.exception_string_param_max_len', (string) $previous[1]);
        }
    }

    public function testAConfigurationGivenForAFilePathIsNotEchoed(): void
    {
        $config = json_encode(['private_key' => self::vectorFile('keys/merchant_test_key.pem'), 'apiv3_key' => self::APIV3] + self::vectorConfig(''));
        foreach ([$config, "/tmp/config\n" . self::APIV3, "/tmp/a\0" . self::APIV3] as $path) {
            $e = self::failure(fn () => Client::fromFile($path), \GoldPlan\Exception\ConfigurationException::class, 'configuration');
            self::assertStringContainsString('not shown', $e->getMessage());
            self::assertNoSecret((string) $e, self::vectorFile('keys/merchant_test_key.pem'));
        }
        // A missing file is described, not named: the core cannot tell a path from a key body
        // (base64 holds '/' as paths do), so it quotes neither.
        $e = self::failure(fn () => Client::fromFile('/nonexistent/goldplan.json'), \GoldPlan\Exception\ConfigurationException::class);
        self::assertStringContainsString('no such file', $e->getMessage());
        self::assertStringContainsString('26 characters', $e->getMessage());
        self::assertStringNotContainsString('/nonexistent/goldplan.json', $e->getMessage());
    }

    /**
     * A failed constructor keeps no copy of the configuration's JSON (the text the door made,
     * and wipes) in its exception: #[SensitiveParameter] hides a value from output but still
     * holds it, and a held string cannot be wiped.
     */
    public function testAFailedConstructorKeepsNoCopyOfTheConfigurationJson(): void
    {
        $pem = self::vectorFile('keys/merchant_test_key.pem');
        $previous = ini_set('zend.exception_ignore_args', '0');
        try {
            foreach ([
                fn () => new Client(['serial_no' => 'not hex', 'private_key' => $pem] + self::vectorConfig('')),
                fn () => new Signer(['mchid' => '1', 'serial_no' => 'not hex', 'private_key' => $pem]),
            ] as $i => $f) {
                try {
                    $f();
                    self::fail("case $i did not fail");
                } catch (GoldPlanException $e) {
                    self::assertSame('configuration', $e->getFamily(), $e->getMessage());
                    foreach ($e->getTrace() as $frame) {
                        foreach ($frame['args'] ?? [] as $arg) {
                            $value = $arg instanceof \SensitiveParameterValue ? $arg->getValue() : $arg;
                            self::assertFalse(\is_string($value) && str_contains($value, '"private_key"'), "case $i: {$frame['function']}() holds the configuration JSON");
                        }
                    }
                }
            }
        } finally {
            ini_set('zend.exception_ignore_args', (string) $previous);
        }
    }
}

/** serialize() when allowed (the handle classes refuse it: that is tested elsewhere). */
function serialize_safe(mixed $value): string
{
    try {
        return serialize($value);
    } catch (\Exception) {
        return '';
    }
}
