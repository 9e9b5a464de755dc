<?php

declare(strict_types=1);

namespace GoldPlan\Tests;

use GoldPlan\Client;
use GoldPlan\Exception;
use GoldPlan\Protocol;
use GoldPlan\Tests\Support\Sandbox;
use GoldPlan\Tests\Support\TestCase;
use GoldPlan\Verifier;

/** Every error family from a real failure, mapped once from the core's report. */
final class ErrorsTest extends TestCase
{
    private const FAMILIES = [
        'configuration' => Exception\ConfigurationException::class,
        'invalid_input' => Exception\InvalidInputException::class,
        'signature' => Exception\SignatureException::class,
        'signing' => Exception\SigningException::class,
        'encryption' => Exception\EncryptionException::class,
        'decryption' => Exception\DecryptionException::class,
        'certificate' => Exception\CertificateException::class,
        'replay' => Exception\ReplayException::class,
        'decode' => Exception\DecodeException::class,
        'api' => Exception\ApiException::class,
        'transport' => Exception\TransportException::class,
        'internal' => Exception\InternalException::class,
    ];

    /** @var array<string, true> */
    private array $seen = [];

    private function expect(callable $f, string $family, ?string $kind = null): Exception\GoldPlanException
    {
        $e = self::failure($f, self::FAMILIES[$family], $kind);
        self::assertSame($family, $e->getFamily(), $e->getMessage());
        self::assertInstanceOf(\RuntimeException::class, $e);
        if ($family !== 'api') {
            self::assertSame(0, $e->getCode());
        }
        $this->seen[$family] = true;
        return $e;
    }

    public function testTheClassesOfTheFamilies(): void
    {
        foreach (self::FAMILIES as $family => $class) {
            $r = new \ReflectionClass($class);
            self::assertSame(Exception\GoldPlanException::class, $r->getParentClass()->getName(), $class);
            self::assertSame(str_replace('_', '', ucwords($family, '_')) . 'Exception', $r->getShortName());
            self::assertFalse($r->isFinal());
        }
        $base = new \ReflectionClass(Exception\GoldPlanException::class);
        self::assertSame(\RuntimeException::class, $base->getParentClass()->getName());
    }

    public function testEveryFamilyFromARealFailure(): void
    {
        $sandbox = new Sandbox('public_key');
        $sub = $sandbox->config['sub_mchids'][0];
        $client = self::client($sandbox, ['max_attempts' => 1]);
        $client->changeGoldPlanStatus($sub, 'OPEN');

        // configuration
        $this->expect(fn () => new Client([]), 'configuration', 'configuration');
        $this->expect(fn () => self::client($sandbox, ['apiv3_key' => 'short']), 'configuration', 'configuration');
        // invalid_input
        $this->expect(fn () => $client->changeGoldPlanStatus($sub, 'MAYBE'), 'invalid_input', 'invalid_input');
        $this->expect(fn () => $client->setAdvertisingIndustryFilter($sub, []), 'invalid_input', 'invalid_input');
        // signature: the sandbox's control API breaks the next response
        $sandbox->admin('POST', '/faults', ['kind' => 'bad_signature']);
        $e = $this->expect(fn () => $client->closeAdvertisingShow($sub), 'signature', 'signature_invalid');
        self::assertNotNull($e->getRequestId());
        $sandbox->admin('POST', '/faults', ['kind' => 'stale_timestamp']);
        $this->expect(fn () => $client->closeAdvertisingShow($sub), 'signature', 'clock_skew');
        $sandbox->admin('POST', '/faults', ['kind' => 'unknown_serial']);
        $this->expect(fn () => $client->closeAdvertisingShow($sub), 'signature', 'unknown_serial');
        // encryption
        $this->expect(fn () => Protocol::aeadEncrypt('0123456789abcdefghijklmnopqrstuv', '', 'short', 'x'), 'encryption', 'encryption');
        // decryption
        $this->expect(fn () => $client->decryptSensitive(base64_encode(str_repeat("\1", 256))), 'decryption', 'decryption');
        // certificate: a certificate-mode client of a merchant that has only the public key
        $certClient = self::client($sandbox, ['mode' => 'certificate', 'max_attempts' => 1]);
        $this->expect(fn () => $certClient->closeAdvertisingShow($sub), 'certificate', 'no_platform_certificate');
        // decode: an authentic callback whose body is not a notification
        $verifier = new Verifier(['public_key_id' => self::GATEWAY_KEY_ID, 'public_key' => self::vectorFile('keys/wechatpay_test_pubkey.pem')]);
        $this->expect(fn () => $verifier->parseNotification('0123456789abcdefghijklmnopqrstuv', self::signedHeaders('not json'), 'not json'), 'decode', 'decode');
        // replay: an authentic callback the replay guard reports as processed
        $key = '0123456789abcdefghijklmnopqrstuv';
        $callback = self::notificationBody($key, ['out_trade_no' => 'E-1'], 'EV-errors-1');
        $this->expect(fn () => $verifier->parseNotification($key, self::signedHeaders($callback), $callback, 0, 0, fn (string $id): bool => $id === 'EV-errors-1'), 'replay', 'replay');
        // api: WeChat's error with status, code and Request-ID; a 500 is retryable
        $e = $this->expect(fn () => $client->changeGoldPlanStatus('1234567890', 'OPEN'), 'api', 'api');
        self::assertSame(400, $e->getStatus());
        self::assertIsString($e->getCode());
        self::assertFalse($e->isRetryable());
        $sandbox->admin('POST', '/faults', ['kind' => 'system_error']);
        $e = $this->expect(fn () => $client->closeAdvertisingShow($sub), 'api', 'api');
        self::assertSame(500, $e->getStatus());
        self::assertSame('SYSTEM_ERROR', $e->getCode());
        self::assertTrue($e->isRetryable());
        // transport: nothing listens on port 9; then a gateway slower than the timeout
        $closed = new Client(self::vectorConfig('http://127.0.0.1:9'));
        $e = $this->expect(fn () => $closed->closeAdvertisingShow($sub), 'transport');
        self::assertTrue($e->isRetryable());
        $sandbox->admin('POST', '/faults', ['kind' => 'delay', 'delay_ms' => 3000]);
        $slow = self::client($sandbox, ['timeout' => 0.3, 'max_attempts' => 1]);
        $this->expect(fn () => $slow->closeAdvertisingShow($sub), 'transport', 'timeout');
        $sandbox->admin('DELETE', '/faults');

        // signing and internal have no trigger in the PHP API: the built-in RSA signer cannot
        // fail on a key it accepted, and internal is a bug. Their classes are checked in
        // testTheClassesOfTheFamilies.
        $missing = array_values(array_diff(array_keys(self::FAMILIES), array_keys($this->seen)));
        sort($missing);
        self::assertSame(['internal', 'signing'], $missing);
    }
}
