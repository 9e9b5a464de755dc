<?php

declare(strict_types=1);

namespace GoldPlan\Tests;

use GoldPlan\Client;
use GoldPlan\Exception\ConfigurationException;
use GoldPlan\Tests\Support\Sandbox;
use GoldPlan\Tests\Support\TestCase;

/**
 * The fleet settings from PHP (both doors): clients configured with one Redis share the
 * certificate download, as the workers of a PHP-FPM pool do; a shared rate limit is accepted.
 */
final class FleetTest extends TestCase
{
    /** @var resource|null */
    private $redis = null;
    private string $redisDir = '';

    private function startRedis(): string
    {
        $socket = stream_socket_server('tcp://127.0.0.1:0');
        self::assertNotFalse($socket);
        $port = (int) substr(strrchr((string) stream_socket_get_name($socket, false), ':'), 1);
        fclose($socket);
        $this->redisDir = sys_get_temp_dir() . '/goldplan-php-redis-' . bin2hex(random_bytes(6));
        mkdir($this->redisDir, 0700, true);
        $command = ['redis-server', '--port', (string) $port, '--bind', '127.0.0.1', '--save', '',
            '--appendonly', 'no', '--dir', $this->redisDir];
        $process = proc_open($command, [0 => ['pipe', 'r'], 1 => ['file', '/dev/null', 'w'], 2 => ['file', '/dev/null', 'w']], $pipes);
        self::assertIsResource($process, 'redis-server is missing: cargo make redis-tools');
        $this->redis = $process;
        for ($i = 0; $i < 200; $i++) {
            $probe = @stream_socket_client("tcp://127.0.0.1:$port", $errno, $error, 0.1);
            if ($probe !== false) {
                fclose($probe);
                return "redis://127.0.0.1:$port/0";
            }
            usleep(25_000);
        }
        self::fail('redis-server did not start');
    }

    protected function tearDown(): void
    {
        if (is_resource($this->redis)) {
            proc_terminate($this->redis, 9);
            proc_close($this->redis);
        }
        if ($this->redisDir !== '' && is_dir($this->redisDir)) {
            exec('rm -rf ' . escapeshellarg($this->redisDir));
        }
    }

    public function testWorkersConfiguredWithOneRedisDownloadTheCertificatesOnce(): void
    {
        $url = $this->startRedis();
        $sandbox = new Sandbox('certificate');
        $sub = $sandbox->config['sub_mchids'][0];
        $settings = ['mode' => 'certificate', 'certificate_store' => $url, 'rate_limit' => ['per_second' => 500]];
        foreach ([0, 1, 2, 3] as $worker) {
            $client = self::client($sandbox, $settings);
            self::assertSame($sub, $client->changeGoldPlanStatus($sub, 'OPEN', 'JSAPI')['sub_mchid']);
        }
        $downloads = array_filter(
            $sandbox->admin('GET', '/requests'),
            static fn (array $r): bool => str_starts_with($r['path'], '/v3/certificates'),
        );
        self::assertCount(1, $downloads);
    }

    public function testAnUnknownStoreIsAConfigurationErrorWithoutTheUrl(): void
    {
        $sandbox = new Sandbox('certificate');
        $e = self::failure(
            static fn () => self::client($sandbox, ['certificate_store' => 'memcached://:hunter2@127.0.0.1/']),
            ConfigurationException::class,
        );
        self::assertStringNotContainsString('hunter2', $e->getMessage());
        self::assertStringContainsString('certificate_store', $e->getMessage());
    }
}
