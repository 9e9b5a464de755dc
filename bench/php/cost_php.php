<?php
/**
 * The PHP side of bench/cost.py: one PHP process making 点金计划管理 calls (OPEN, 200 with a
 * signed JSON body) against a sandbox *process* through one of three doors, and printing the
 * wall time as JSON on its last line; bench/cost.py measures the CPU time from outside.
 *
 *   php -d extension=/path/goldplan.so bench/php/cost_php.php --door ext   --config sandbox.json --calls N [--concurrency K]
 *   php -d ffi.enable=1                bench/php/cost_php.php --door ffi   --config sandbox.json --calls N [--concurrency K]
 *   php                                bench/php/cost_php.php --door plain --config sandbox.json --calls N [--concurrency K]
 *
 * PHP has no threads: with --concurrency K > 1 the process forks K workers (as PHP-FPM forks
 * its workers), each builds its own client and makes its share of the calls; the wall time is
 * from the moment all K are ready to the moment the last one has exited, and calls/s is the
 * aggregate of the K processes. The ffi door loads the Composer package from
 * GOLDPLAN_PHP_PACKAGE (default: bindings/php of this checkout), which finds libgoldplan.so
 * through GOLDPLAN_LIBRARY.
 */

declare(strict_types=1);

const SUB_MCHID = '1900000109';

function fail(string $message, int $code = 2): never
{
    fwrite(STDERR, "cost_php: $message\n");
    exit($code);
}

/** @return array<string, string> */
function options(array $argv): array
{
    $opts = ['--door' => null, '--config' => null, '--calls' => '1000', '--concurrency' => '1'];
    for ($i = 1; $i < count($argv); $i += 2) {
        if (!array_key_exists($argv[$i], $opts) || !isset($argv[$i + 1])) {
            fail('usage: cost_php.php --door ext|ffi|plain --config sandbox.json [--calls N] [--concurrency K]');
        }
        $opts[$argv[$i]] = $argv[$i + 1];
    }
    if (!in_array($opts['--door'], ['ext', 'ffi', 'plain'], true) || $opts['--config'] === null) {
        fail('--door ext|ffi|plain and --config are required');
    }
    foreach (['--calls', '--concurrency'] as $n) {
        if (!ctype_digit($opts[$n])) {
            fail("$n takes a whole number");
        }
    }
    return $opts;
}

/** Loads the door's code (in the parent, before any fork, as FPM's master would). */
function loadDoor(string $door): void
{
    switch ($door) {
        case 'ext':
            if (!extension_loaded('goldplan')) {
                fail('--door ext needs the extension: php -d extension=/path/to/goldplan.so');
            }
            return;
        case 'ffi':
            if (extension_loaded('goldplan')) {
                fail('--door ffi must run without the extension (the package would step aside for it)');
            }
            $package = getenv('GOLDPLAN_PHP_PACKAGE') ?: dirname(__DIR__, 2) . '/bindings/php';
            foreach (['/vendor/autoload.php', '/autoload.php'] as $autoload) {
                if (is_file($package . $autoload)) {
                    require $package . $autoload;
                    break;
                }
            }
            if (!class_exists(\GoldPlan\Client::class)) {
                // No autoloader shipped: PSR-4 GoldPlan\ => src/, as composer.json declares it.
                spl_autoload_register(static function (string $class) use ($package): void {
                    if (str_starts_with($class, 'GoldPlan\\')) {
                        $file = $package . '/src/' . str_replace('\\', '/', substr($class, 9)) . '.php';
                        if (is_file($file)) {
                            require $file;
                        }
                    }
                });
            }
            if (!class_exists(\GoldPlan\Client::class)) {
                fail("--door ffi: no GoldPlan\\Client in $package");
            }
            return;
        case 'plain':
            require __DIR__ . '/plain_client.php';
            return;
    }
}

/** Builds the door's client and returns one call; the call checks what it got back. */
function makeCall(string $door, string $config): Closure
{
    if ($door === 'plain') {
        $json = json_decode((string) file_get_contents($config), true, 512, JSON_THROW_ON_ERROR);
        $client = new GoldPlanBench\PlainClient($json);
    } else {
        $client = \GoldPlan\Client::fromFile($config);
    }
    return static function () use ($client): void {
        $reply = $client->changeGoldPlanStatus(SUB_MCHID, 'OPEN');
        if (($reply['sub_mchid'] ?? null) !== SUB_MCHID) {
            throw new RuntimeException('unexpected reply: ' . json_encode($reply));
        }
    };
}

function runCalls(Closure $call, int $calls): void
{
    for ($i = 0; $i < $calls; $i++) {
        $call();
    }
}

/** K forked workers; returns the wall time from "all ready" to "all exited". */
function runWorkers(string $door, string $config, int $calls, int $workers): float
{
    $children = [];
    for ($w = 0; $w < $workers; $w++) {
        $share = intdiv($calls, $workers) + ($w < $calls % $workers ? 1 : 0);
        $pair = stream_socket_pair(STREAM_PF_UNIX, STREAM_SOCK_STREAM, STREAM_IPPROTO_IP);
        if ($pair === false) {
            fail('socketpair failed');
        }
        $pid = pcntl_fork();
        if ($pid === -1) {
            fail('fork failed');
        }
        if ($pid === 0) {
            fclose($pair[0]);
            try {
                $call = makeCall($door, $config);
                $call(); // warm: connection open, nothing lazy left
                fwrite($pair[1], 'r');
                if (fread($pair[1], 1) !== 'g') {
                    exit(3);
                }
                runCalls($call, $share);
            } catch (Throwable $e) {
                fwrite(STDERR, 'cost_php worker: ' . get_class($e) . ': ' . $e->getMessage() . "\n");
                exit(1);
            }
            exit(0);
        }
        fclose($pair[1]);
        $children[$pid] = $pair[0];
    }
    foreach ($children as $sock) {
        if (fread($sock, 1) !== 'r') {
            fail('a worker failed before it was ready', 1);
        }
    }
    $started = hrtime(true);
    foreach ($children as $sock) {
        fwrite($sock, 'g');
    }
    $failed = 0;
    foreach (array_keys($children) as $pid) {
        pcntl_waitpid($pid, $status);
        if (!pcntl_wifexited($status) || pcntl_wexitstatus($status) !== 0) {
            $failed++;
        }
    }
    $wall = (hrtime(true) - $started) / 1e9;
    if ($failed > 0) {
        fail("$failed worker(s) failed", 1);
    }
    return $wall;
}

$opts = options($argv);
$door = $opts['--door'];
$calls = (int) $opts['--calls'];
$concurrency = max(1, (int) $opts['--concurrency']);
loadDoor($door);
try {
    if ($concurrency === 1) {
        $call = makeCall($door, $opts['--config']);
        $call(); // warm
        $started = hrtime(true);
        runCalls($call, $calls);
        $wall = (hrtime(true) - $started) / 1e9;
    } else {
        $wall = runWorkers($door, $opts['--config'], $calls, $concurrency);
    }
} catch (Throwable $e) {
    fail(get_class($e) . ': ' . $e->getMessage(), 1);
}
echo json_encode([
    'calls' => $calls,
    'concurrency' => $concurrency,
    'in_flight_by' => $concurrency > 1 ? 'processes' : 'sequential',
    'door' => $door,
    'wall_s' => round($wall, 6),
]), "\n";
