<?php

declare(strict_types=1);

namespace GoldPlan\Tests;

use GoldPlan\Client;
use GoldPlan\Exception\InvalidInputException;
use GoldPlan\Exception\ReplayException;
use GoldPlan\Exception\SignatureException;
use GoldPlan\Tests\Support\TestCase;
use GoldPlan\Verifier;

/**
 * parseNotification's replay guard, on Client and Verifier: the core asks the PHP callable
 * (through the C API's replay hook) about authentic callbacks only, and a "processed" answer
 * is the replay family's exception.
 */
final class ReplayGuardTest extends TestCase
{
    private const KEY = '0123456789abcdefghijklmnopqrstuv';

    /** @return array<string, array{\Closure(array, string, ?callable): array}> */
    public static function parsers(): array
    {
        return [
            'client' => [static function (array $headers, string $body, ?callable $guard): array {
                // The vector keys in public-key mode: nothing is sent, a callback is checked offline.
                $client = new Client(self::vectorConfig('http://127.0.0.1:9'));
                return $client->parseNotification($headers, $body, $guard);
            }],
            'verifier' => [static function (array $headers, string $body, ?callable $guard): array {
                $verifier = new Verifier(['public_key_id' => self::GATEWAY_KEY_ID, 'public_key' => self::vectorFile('keys/wechatpay_test_pubkey.pem')]);
                return $verifier->parseNotification(self::KEY, $headers, $body, 0, 0, $guard);
            }],
        ];
    }

    /** @dataProvider parsers */
    public function testAProcessedIdIsAReplayAndANewOneIsParsed(\Closure $parse): void
    {
        $processed = [];
        $asked = [];
        $guard = static function (string $id) use (&$processed, &$asked): bool {
            $asked[] = $id;
            return isset($processed[$id]);
        };
        $body = self::notificationBody(self::KEY, ['out_trade_no' => 'R-1'], 'EV-replay-1');
        $headers = self::signedHeaders($body);

        $n = $parse($headers, $body, $guard);
        self::assertSame('EV-replay-1', $n['id']);
        self::assertSame(['out_trade_no' => 'R-1'], $n['resource']);
        self::assertSame(['EV-replay-1'], $asked);

        // The handler succeeded: the id is recorded, and the same callback again is a replay.
        $processed['EV-replay-1'] = true;
        $e = self::failure(fn () => $parse($headers, $body, $guard), ReplayException::class, 'replay');
        self::assertSame('replay', $e->getFamily());
        self::assertStringContainsString('EV-replay-1', $e->getMessage());
        self::assertFalse($e->isRetryable());

        // Another id goes through; without a guard nothing is asked.
        $other = self::notificationBody(self::KEY, ['out_trade_no' => 'R-2'], 'EV-replay-2');
        self::assertSame('EV-replay-2', $parse(self::signedHeaders($other), $other, $guard)['id']);
        self::assertSame('EV-replay-1', $parse($headers, $body, null)['id']);
        self::assertSame(['EV-replay-1', 'EV-replay-1', 'EV-replay-2'], $asked);
    }

    /** @dataProvider parsers */
    public function testTheGuardIsAskedOnlyAboutAuthenticCallbacks(\Closure $parse): void
    {
        $asked = 0;
        $guard = static function (string $id) use (&$asked): bool {
            $asked++;
            return true;
        };
        $body = self::notificationBody(self::KEY, ['out_trade_no' => 'R-3'], 'EV-replay-3');
        $headers = self::signedHeaders($body);
        $tampered = str_replace('EV-replay-3', 'EV-replay-4', $body);
        self::failure(fn () => $parse($headers, $tampered, $guard), SignatureException::class, 'signature_invalid');
        self::assertSame(0, $asked);
    }

    /** @dataProvider parsers */
    public function testWhatTheGuardThrowsIsThrownAsIs(\Closure $parse): void
    {
        $body = self::notificationBody(self::KEY, ['out_trade_no' => 'R-5'], 'EV-replay-5');
        $headers = self::signedHeaders($body);
        $store = new \RuntimeException('the replay store is down');
        try {
            $parse($headers, $body, static fn (string $id): bool => throw $store);
            self::fail('the guard threw');
        } catch (\RuntimeException $e) {
            self::assertSame($store, $e);
        }
        // A guard that answers something else than a bool is the caller's bad input.
        $e = self::failure(fn () => $parse($headers, $body, static fn (string $id) => 'yes'), InvalidInputException::class, 'invalid_input');
        self::assertSame('the replay guard must return a bool, not string', $e->getMessage());
        $e = self::failure(fn () => $parse($headers, $body, static fn (string $id) => new \ArrayObject()), InvalidInputException::class, 'invalid_input');
        self::assertSame('the replay guard must return a bool, not ArrayObject', $e->getMessage());
        // The parser works as before afterwards.
        self::assertSame('EV-replay-5', $parse($headers, $body, static fn (string $id): bool => false)['id']);
    }
}
