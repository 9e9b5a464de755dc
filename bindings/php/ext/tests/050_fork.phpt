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
for ($i = 0; $i < 2; $i++) {
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
        // Leave without PHP's shutdown: the child's copy of the parent's library state is the
        // parent's (the library keeps it on purpose), and valgrind would count it at exit.
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
done
