<?php

declare(strict_types=1);

namespace GoldPlan\Tests;

use GoldPlan\Client;
use GoldPlan\Signer;
use GoldPlan\Tests\Support\TestCase;
use GoldPlan\Verifier;

/** Objects that own a native handle: not copied, not serialized, no stray properties, no leak. */
final class LifetimeTest extends TestCase
{
    /** @return list<object> */
    private static function handles(): array
    {
        return [
            new Client(self::vectorConfig('http://127.0.0.1:9')),
            new Signer(self::vectorConfig('')),
            new Verifier(['public_key_id' => self::GATEWAY_KEY_ID, 'public_key' => self::vectorFile('keys/wechatpay_test_pubkey.pem')]),
        ];
    }

    public function testNotCloneable(): void
    {
        foreach (self::handles() as $object) {
            try {
                $copy = clone $object;
                self::fail('cloned ' . get_class($copy));
            } catch (\Error $e) {
                self::assertStringContainsString(get_class($object), $e->getMessage());
            }
            // The refused copy is gone; the original still owns a live handle.
            gc_collect_cycles();
            self::assertNotEmpty($object instanceof Verifier ? $object->encryptSensitive('x') : ($object instanceof Signer ? $object->sign('x') : $object->encryptSensitive('x')));
        }
    }

    public function testNotSerializable(): void
    {
        foreach (self::handles() as $object) {
            try {
                serialize($object);
                self::fail('serialized ' . get_class($object));
            } catch (\Exception $e) {
                self::assertSame("Serialization of '" . get_class($object) . "' is not allowed", $e->getMessage());
            }
            $forged = 'O:' . strlen(get_class($object)) . ':"' . get_class($object) . '":0:{}';
            try {
                unserialize($forged);
                self::fail('unserialized ' . get_class($object));
            } catch (\Exception $e) {
                self::assertSame("Unserialization of '" . get_class($object) . "' is not allowed", $e->getMessage());
            }
        }
    }

    public function testNoDynamicProperties(): void
    {
        foreach (self::handles() as $object) {
            try {
                $object->typo = 1;
                self::fail('a dynamic property on ' . get_class($object));
            } catch (\Error $e) {
                self::assertStringContainsString('Cannot create dynamic property', $e->getMessage());
            }
        }
    }

    public function testHandlesAreFreedWithTheirObjects(): void
    {
        $config = self::vectorConfig('http://127.0.0.1:9');
        for ($i = 0; $i < 50; $i++) {
            $client = new Client($config);
            $client->encryptSensitive('warm-up');
        }
        $before = self::rss();
        for ($i = 0; $i < 120; $i++) {
            $client = new Client($config);
            $client->encryptSensitive('13800138000');
            $signer = new Signer($config);
            $signer->signRequest('GET', '/v3/certificates');
        }
        unset($client, $signer);
        $grown = self::rss() - $before;
        self::assertLessThan(6 * 1024, $grown, "RSS grew by {$grown} KiB over 120 clients and signers");
    }

    private static function rss(): int
    {
        preg_match('/^VmRSS:\s+(\d+) kB/m', (string) file_get_contents('/proc/self/status'), $m);
        return (int) $m[1];
    }
}
