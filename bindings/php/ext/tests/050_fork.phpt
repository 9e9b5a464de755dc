--TEST--
goldplan: a client created and used in the parent works in forked children (the PHP-FPM model)
--EXTENSIONS--
goldplan
pcntl
--FILE--
<?php
require __DIR__ . '/helpers.inc';

use GoldPlan\Client;

$sb = sandbox('combined');
$client = Client::fromFile($sb->configPath);
$client->changeGoldPlanStatus(SUB, 'OPEN');
same($client->closeAdvertisingShow(SUB), [], 'parent, before the fork');

$results = [];
$children = [];
// Child 2 also frees its copy of the client, as a PHP-FPM worker does when it exits.
for ($i = 0; $i < 3; $i++) {
    $file = tempnam(sys_get_temp_dir(), 'gp-fork');
    $pid = pcntl_fork();
    if ($pid === 0) {
        $ok = 0;
        for ($j = 0; $j < 3; $j++) {
            try {
                $client->closeAdvertisingShow(SUB);
                $ok += is_string($client->lastRequestId()) ? 1 : 0;
            } catch (Throwable $e) {
                file_put_contents($file, get_class($e) . ': ' . $e->getMessage() . "\n", FILE_APPEND);
            }
        }
        file_put_contents($file, "ok $ok\n", FILE_APPEND);
        if ($i === 2) {
            unset($client);
            gc_collect_cycles();
            file_put_contents($file, "freed\n", FILE_APPEND);
        }
        // Leave without PHP's shutdown, which would run the inherited Sandbox's destructor and
        // stop the parent's sandbox. (The library keeps the parent's state in a child on
        // purpose, and an exec is not leak-checked by valgrind.)
        pcntl_exec('/bin/sh', ['-c', 'exit 0']);
        exit(1);
    }
    check($pid > 0, 'fork');
    $children[$pid] = $file;
}
foreach ($children as $pid => $file) {
    pcntl_waitpid($pid, $status);
    check(pcntl_wifexited($status) && pcntl_wexitstatus($status) === 0, "child $pid exit status");
    $results[] = trim((string)file_get_contents($file));
    unlink($file);
}
echo implode("\n", $results), "\n";
same($client->closeAdvertisingShow(SUB), [], 'parent, after the forks');
done();
?>
--EXPECT--
ok 3
ok 3
ok 3
freed
done
