<?php

declare(strict_types=1);

namespace GoldPlan\Tests;

use GoldPlan\Tests\Support\Sandbox;
use GoldPlan\Tests\Support\TestCase;

/** examples/php: run as a user would, with the door of this run; the README shows quickstart.php. */
final class ExamplesTest extends TestCase
{
    private const EXAMPLES = __DIR__ . '/../../../examples/php';

    /** php with the door of this run (GOLDPLAN_PHP_EXT names the extension for child processes). */
    private static function php(): array
    {
        if (GOLDPLAN_TEST_DOOR === 'ext') {
            $ext = (string) getenv('GOLDPLAN_PHP_EXT');
            self::assertFileExists($ext, 'set GOLDPLAN_PHP_EXT to goldplan.so for the examples of the ext pass');
            return [PHP_BINARY, '-d', "extension=$ext"];
        }
        return [PHP_BINARY, '-d', 'ffi.enable=1'];
    }

    /** @return array{0: int, 1: string, 2: string} */
    private static function execute(array $command): array
    {
        $process = proc_open($command, [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes);
        $out = (string) stream_get_contents($pipes[1]);
        $err = (string) stream_get_contents($pipes[2]);
        return [proc_close($process), $out, $err];
    }

    public function testTheReadmeShowsTheQuickStartVerbatim(): void
    {
        $source = (string) file_get_contents(self::EXAMPLES . '/quickstart.php');
        foreach ([dirname(__DIR__) . '/README.md', dirname(__DIR__, 3) . '/README.md'] as $path) {
            $readme = (string) file_get_contents($path);
            self::assertStringContainsString("```php\n" . $source . "```", $readme, "$path must show examples/php/quickstart.php verbatim");
        }
    }

    public function testQuickStart(): void
    {
        $sandbox = new Sandbox('combined');
        [$status, $out, $err] = self::execute([...self::php(), self::EXAMPLES . '/quickstart.php', $sandbox->configPath, $sandbox->config['sub_mchids'][0]]);
        self::assertSame(0, $status, $out . $err);
        self::assertMatchesRegularExpression('/^Gold Plan opened for 1900000109 \(Request-ID [0-9A-F]+\)$/m', $out);
        self::assertMatchesRegularExpression('/^refused: HTTP 400 [A-Z_]+: /m', $out);
    }

    public function testGoldPlanExample(): void
    {
        $sandbox = new Sandbox('combined');
        [$status, $out, $err] = self::execute([...self::php(), self::EXAMPLES . '/gold_plan.php', $sandbox->configPath]);
        self::assertSame(0, $status, $out . $err);
        foreach (['probe: ok', 'Gold Plan opened for', 'merchant receipt opened', 'industry filter set', 'advertising show opened', 'refused before sending', 'image uploaded', 'valid: yes', 'advertising show closed'] as $line) {
            self::assertStringContainsString($line, $out);
        }
        self::assertStringNotContainsString('PRIVATE KEY', $out . $err);
        $state = $sandbox->admin('GET', '/merchants/' . $sandbox->config['mchid'] . '/sub-merchants/' . $sandbox->config['sub_mchids'][0]);
        self::assertSame('OPEN', strtoupper((string) ($state['gold_plan'] ?? '')), json_encode($state));
    }

    public function testCallbackEndpointWithTheSandbox(): void
    {
        $sandbox = new Sandbox('public_key');
        [$server, $url, $log] = self::startEndpoint($sandbox->configPath, $sandbox->stateDir);
        try {
            // Delivered by the sandbox, signed and encrypted as WeChat Pay does: 204.
            $record = $sandbox->admin('POST', '/callbacks', ['url' => $url, 'max_attempts' => 1, 'resource' => ['out_trade_no' => 'ORDER-2001', 'trade_state' => 'SUCCESS']]);
            $done = self::waitForDelivery($sandbox, $record['id']);
            self::assertSame('delivered', $done['status'], json_encode($done) . file_get_contents($log));
            self::assertSame(204, $done['attempts'][0]['status']);
            self::assertStringContainsString('ORDER-2001', (string) file_get_contents($log));
            // A forged signature on the next delivery: 401 with WeChat Pay's error body.
            $sandbox->admin('POST', '/faults', ['kind' => 'bad_signature', 'target' => 'callback']);
            $record = $sandbox->admin('POST', '/callbacks', ['url' => $url, 'max_attempts' => 1, 'resource' => ['out_trade_no' => 'ORDER-2002']]);
            $done = self::waitForDelivery($sandbox, $record['id']);
            self::assertSame('failed', $done['status'], json_encode($done));
            self::assertSame(401, $done['attempts'][0]['status']);
            self::assertSame('FAIL', json_decode((string) $done['attempts'][0]['response_body'], true)['code'] ?? null);
        } finally {
            proc_terminate($server);
            proc_close($server);
        }
    }

    public function testCallbackEndpointWithTheVectorKeys(): void
    {
        $dir = sys_get_temp_dir() . '/goldplan-php-callback-' . bin2hex(random_bytes(4));
        mkdir($dir, 0700);
        $config = $dir . '/config.json';
        file_put_contents($config, json_encode(self::vectorConfig('http://127.0.0.1:9')));
        [$server, $url, $log] = self::startEndpoint($config, $dir);
        try {
            $body = self::notificationBody('0123456789abcdefghijklmnopqrstuv', ['out_trade_no' => 'ORDER-3001', 'trade_state' => 'SUCCESS']);
            $headers = self::signedHeaders($body) + ['Content-Type' => 'application/json'];
            [$status, $answer] = self::post($url, $headers, $body);
            self::assertSame(204, $status, $answer);
            // The same callback again: the example's replay guard knows the id, answered 204.
            [$status, $answer] = self::post($url, $headers, $body);
            self::assertSame(204, $status, $answer);
            self::assertStringContainsString('callback already processed: notification EV-test-1', (string) file_get_contents($log));
            // The same headers over a body altered by one byte: refused.
            $tampered = str_replace('"TRANSACTION.SUCCESS"', '"TRANSACTION.SUCCESs"', $body);
            self::assertNotSame($body, $tampered);
            [$status, $answer] = self::post($url, $headers, $tampered);
            self::assertSame(401, $status, $answer);
            self::assertSame(['code' => 'FAIL', 'message' => 'signature: signature_invalid'], json_decode($answer, true));
            // Authentic, but sealed with another APIv3 key: 400.
            $other = self::notificationBody(str_repeat('k', 32), ['out_trade_no' => 'ORDER-3002']);
            [$status, $answer] = self::post($url, self::signedHeaders($other), $other);
            self::assertSame(400, $status, $answer);
            self::assertSame('FAIL', json_decode($answer, true)['code']);
            [$status, $answer] = self::post($url, ['Content-Type' => 'application/json'], '{}');
            self::assertSame(401, $status, $answer);
            self::assertSame(['code' => 'FAIL', 'message' => 'signature: missing_header'], json_decode($answer, true));
            [$status] = self::post($url, [], '', 'GET');
            self::assertSame(405, $status);
        } finally {
            proc_terminate($server);
            proc_close($server);
            exec('rm -rf ' . escapeshellarg($dir));
        }
    }

    /** php -S with examples/php/callback.php and GOLDPLAN_CONFIG=$config: [process, url, log]. */
    private static function startEndpoint(string $config, string $dir): array
    {
        $port = self::freePort();
        $log = $dir . '/php-server.log';
        $server = proc_open(
            [...self::php(), '-S', "127.0.0.1:$port", self::EXAMPLES . '/callback.php'],
            [0 => ['pipe', 'r'], 1 => ['file', $log, 'w'], 2 => ['file', $log, 'a']],
            $pipes,
            null,
            ['GOLDPLAN_CONFIG' => $config, 'GOLDPLAN_PROCESSED_DIR' => "$dir/processed"] + getenv(),
        );
        self::waitForPort($port);
        return [$server, "http://127.0.0.1:$port/notify", $log];
    }

    private static function freePort(): int
    {
        $s = stream_socket_server('tcp://127.0.0.1:0');
        $port = (int) substr((string) strrchr(stream_socket_get_name($s, false), ':'), 1);
        fclose($s);
        return $port;
    }

    private static function waitForPort(int $port): void
    {
        $deadline = microtime(true) + 10;
        while (microtime(true) < $deadline) {
            $c = @stream_socket_client("tcp://127.0.0.1:$port", $errno, $error, 0.2);
            if ($c) {
                fclose($c);
                return;
            }
            usleep(50_000);
        }
        self::fail("php -S did not listen on $port");
    }

    private static function waitForDelivery(Sandbox $sandbox, string $id): array
    {
        $deadline = microtime(true) + 15;
        do {
            $record = $sandbox->admin('GET', '/callbacks/' . rawurlencode($id));
            if (($record['status'] ?? 'pending') !== 'pending') {
                return $record;
            }
            usleep(100_000);
        } while (microtime(true) < $deadline);
        self::fail("callback $id still pending: " . json_encode($record));
    }

    /** @return array{0: int, 1: string} */
    private static function post(string $url, array $headers, string $body, string $method = 'POST'): array
    {
        $lines = isset(array_change_key_case($headers)['content-type']) ? '' : "Content-Type: application/json\r\n";
        foreach ($headers as $name => $value) {
            $lines .= "$name: $value\r\n";
        }
        $answer = file_get_contents($url, false, stream_context_create(['http' => [
            'method' => $method, 'header' => $lines, 'content' => $body, 'ignore_errors' => true, 'timeout' => 10,
        ]]));
        preg_match('#^HTTP/\S+ (\d+)#', $http_response_header[0] ?? '', $m);
        return [(int) ($m[1] ?? 0), (string) $answer];
    }
}
