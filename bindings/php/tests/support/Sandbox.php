<?php

declare(strict_types=1);

namespace GoldPlan\Tests\Support;

/**
 * A goldplan sandbox process on 127.0.0.1 for the PHP suites (.phpt and PHPUnit): started with
 * its own state folder, stopped when the object goes away. The binary is GOLDPLAN_SANDBOX_BIN,
 * else target/debug/goldplan-sandbox of the repository.
 */
final class Sandbox
{
    /** @var resource */
    private $process;
    public readonly string $stateDir;
    public readonly string $configPath;
    /** @var array<string, mixed> sandbox.json as written by the sandbox */
    public readonly array $config;

    public function __construct(public readonly string $mode = 'combined')
    {
        $binary = getenv('GOLDPLAN_SANDBOX_BIN') ?: dirname(__DIR__, 4) . '/target/debug/goldplan-sandbox';
        if (!is_executable($binary)) {
            throw new \RuntimeException("no sandbox binary at $binary (set GOLDPLAN_SANDBOX_BIN)");
        }
        $this->stateDir = sys_get_temp_dir() . '/goldplan-php-sandbox-' . bin2hex(random_bytes(6));
        mkdir($this->stateDir, 0700, true);
        $this->configPath = $this->stateDir . '/sandbox.json';
        $command = [$binary, '--port', '0', '--state-dir', $this->stateDir, '--mode', $mode];
        $log = $this->stateDir . '/sandbox.log';
        $process = proc_open($command, [0 => ['pipe', 'r'], 1 => ['file', $log, 'w'], 2 => ['file', $log, 'a']], $pipes);
        if (!is_resource($process)) {
            throw new \RuntimeException('cannot start the sandbox');
        }
        $this->process = $process;
        $deadline = microtime(true) + 20.0;
        while (true) {
            $text = @file_get_contents($this->configPath);
            $config = is_string($text) ? json_decode($text, true) : null;
            if (is_array($config) && isset($config['base_url'])) {
                break;
            }
            if (microtime(true) > $deadline || !proc_get_status($process)['running']) {
                $this->stop();
                throw new \RuntimeException('the sandbox did not start: ' . @file_get_contents($log));
            }
            usleep(50_000);
        }
        $this->config = $config;
    }

    /** A call to the sandbox's control API (admin_url of sandbox.json, e.g. "/clock"), decoded. */
    public function admin(string $method, string $path, ?array $body = null): mixed
    {
        $context = stream_context_create(['http' => [
            'method' => $method,
            'header' => "Content-Type: application/json\r\n",
            'content' => $body === null ? '' : json_encode($body, JSON_THROW_ON_ERROR),
            'ignore_errors' => true,
            'timeout' => 10,
        ]]);
        $text = file_get_contents(rtrim($this->config['admin_url'], '/') . $path, false, $context);
        return $text === false || $text === '' ? null : json_decode($text, true, 512, JSON_THROW_ON_ERROR);
    }

    public function stop(): void
    {
        if (is_resource($this->process)) {
            proc_terminate($this->process);
            proc_close($this->process);
        }
    }

    public function __destruct()
    {
        $this->stop();
        if (is_dir($this->stateDir)) {
            exec('rm -rf ' . escapeshellarg($this->stateDir));
        }
    }
}
