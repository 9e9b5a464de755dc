<?php

declare(strict_types=1);

namespace GoldPlan\Tests;

use GoldPlan\Client;
use GoldPlan\Exception\InvalidInputException;
use GoldPlan\Exception\SignatureException;
use GoldPlan\Tests\Support\Sandbox;
use GoldPlan\Tests\Support\TestCase;

/** A callback delivered by the sandbox over HTTP, parsed from its raw headers and body. */
final class NotificationTest extends TestCase
{
    /** @return array<string, array{string}> */
    public static function modes(): array
    {
        return ['certificate' => ['certificate'], 'public_key' => ['public_key'], 'combined' => ['combined']];
    }

    /** @dataProvider modes */
    public function testADeliveredCallbackIsVerifiedAndDecrypted(string $mode): void
    {
        $sandbox = new Sandbox($mode);
        $client = Client::fromFile($sandbox->configPath);
        $server = stream_socket_server('tcp://127.0.0.1:0', $errno, $error);
        self::assertNotFalse($server, $error);
        $port = (int) substr((string) strrchr(stream_socket_get_name($server, false), ':'), 1);
        $resource = ['out_trade_no' => "C-$mode", 'transaction_id' => '4200000000000000001', 'trade_state' => 'SUCCESS'];
        $record = $sandbox->admin('POST', '/callbacks', ['url' => "http://127.0.0.1:$port/notify", 'max_attempts' => 1, 'summary' => '支付成功', 'resource' => $resource]);
        self::assertIsString($record['id'] ?? null, json_encode($record));
        [$headers, $body] = self::receive($server);

        $n = $client->parseNotification($headers, $body);
        self::assertSame($record['id'], $n['id']);
        self::assertSame('TRANSACTION.SUCCESS', $n['event_type']);
        self::assertSame('支付成功', $n['summary']);
        self::assertEquals($resource, $n['resource']);
        self::assertEquals($resource, json_decode($n['plaintext'], true));
        foreach (['create_time', 'resource_type'] as $field) {
            self::assertIsString($n[$field]);
        }

        // Headers in the shapes servers give them: name => value, PSR-7's name => [values],
        // [name, value] pairs, lower-case names.
        $pairs = array_map(null, array_keys($headers), array_values($headers));
        $lists = array_map(fn ($v) => [$v], $headers);
        $lower = array_change_key_case($headers, CASE_LOWER);
        foreach ([$pairs, $lists, $lower] as $shape) {
            self::assertSame($n['id'], $client->parseNotification($shape, $body)['id']);
        }
        // One altered byte of the raw body, or of a re-encoded body: refused.
        $tampered = $body;
        $tampered[strlen($tampered) - 3] = chr(ord($tampered[strlen($tampered) - 3]) ^ 1);
        self::failure(fn () => $client->parseNotification($headers, $tampered), SignatureException::class, 'signature_invalid');
        $reencoded = json_encode(json_decode($body, true));
        if ($reencoded !== $body) {
            self::failure(fn () => $client->parseNotification($headers, $reencoded), SignatureException::class);
        }
        self::failure(fn () => $client->parseNotification([], $body), SignatureException::class, 'missing_header');
        self::failure(fn () => $client->parseNotification(['not a pair'], $body), InvalidInputException::class);
    }

    /**
     * Accepts one HTTP request (10 s at most) and answers 204.
     * @param resource $server
     * @return array{0: array<string, string>, 1: string}
     */
    private static function receive($server): array
    {
        $connection = stream_socket_accept($server, 10);
        self::assertNotFalse($connection, 'no callback within 10 s');
        $head = '';
        while (!str_contains($head, "\r\n\r\n") && !feof($connection)) {
            $head .= fgets($connection);
        }
        $headers = [];
        foreach (array_slice(explode("\r\n", trim($head)), 1) as $line) {
            [$name, $value] = explode(':', $line, 2);
            $headers[$name] = trim($value);
        }
        $length = (int) (array_change_key_case($headers)['content-length'] ?? 0);
        $body = '';
        while (strlen($body) < $length && !feof($connection)) {
            $body .= fread($connection, $length - strlen($body));
        }
        fwrite($connection, "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
        fclose($connection);
        return [$headers, $body];
    }
}
