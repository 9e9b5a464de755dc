--TEST--
goldplan: 20 children forked right after bursts of signatures and calls each sign and call with the parent's objects
--EXTENSIONS--
goldplan
pcntl
openssl
--FILE--
<?php
require __DIR__ . '/helpers.inc';

use GoldPlan\Client;
use GoldPlan\Signer;

// PHP runs one thread, but the library runs the calls on its own runtime threads, and a fork
// copies whatever they hold at that moment: a registry lock, a key's RSA blinding state,
// a pooled connection. No PHP API call is asynchronous, so each fork follows a burst of calls
// on several clients and signatures, with the runtime's threads still winding down, and
// (outside valgrind) the children run while the parent keeps calling.
const CHILDREN = 20;
// run-tests.php -m (valgrind) sets USE_ZEND_ALLOC=0: shorter bursts, a longer wait.
$valgrind = getenv('USE_ZEND_ALLOC') === '0';
$burst = $valgrind ? 1 : 8;
$wait = $valgrind ? 180.0 : 20.0;

$sb = sandbox('combined');
$clients = [Client::fromFile($sb->configPath), new Client($sb->config), new Client($sb->config)];
$clients[0]->changeGoldPlanStatus(SUB, 'OPEN');
$signer = new Signer($sb->config);
$public = openssl_pkey_get_details(openssl_pkey_get_private($sb->config['private_key_pem']))['key'];

/** One signature (checked with PHP's openssl) and one call with $client: "ok", else what failed. */
function sign_and_call(Signer $signer, Client $client, string $public, string $message): string
{
    try {
        $signature = $signer->sign($message);
        if (openssl_verify($message, base64_decode($signature), $public, OPENSSL_ALGO_SHA256) !== 1) {
            return 'the signature does not verify';
        }
        $client->closeAdvertisingShow(SUB);
        return is_string($client->lastRequestId()) ? 'ok' : 'no Request-ID';
    } catch (Throwable $e) {
        return get_class($e) . ': ' . $e->getMessage();
    }
}

function burst(Signer $signer, array $clients, string $public, int $rounds): void
{
    for ($r = 0; $r < $rounds; $r++) {
        foreach ($clients as $c => $client) {
            $result = sign_and_call($signer, $client, $public, "parent burst $r/$c");
            check($result === 'ok', "parent burst $r, client $c: $result");
        }
    }
}

$children = [];
for ($i = 0; $i < CHILDREN; $i++) {
    $file = tempnam(sys_get_temp_dir(), 'gp-fork-busy');
    burst($signer, $clients, $public, $burst);
    $pid = pcntl_fork();
    if ($pid === 0) {
        // One client each, in turn: every client of the parent is used in some children.
        $c = $i % count($clients);
        file_put_contents($file, "client $c " . sign_and_call($signer, $clients[$c], $public, "child $i, client $c"));
        // Leave without PHP's shutdown, which would run the inherited Sandbox's destructor and
        // stop the parent's sandbox (as in 050_fork.phpt).
        pcntl_exec('/bin/sh', ['-c', 'exit 0']);
        exit(1);
    }
    check($pid > 0, "fork $i");
    $children[$pid] = [$i, $file];
}

// Bounded: a child stuck on a lock the fork copied fails the test instead of hanging it.
$deadline = microtime(true) + $wait;
$ok = 0;
while ($children !== []) {
    foreach ($children as $pid => [$i, $file]) {
        $done = pcntl_waitpid($pid, $status, WNOHANG);
        if ($done === 0 && microtime(true) < $deadline) {
            continue;
        }
        if ($done === 0) {
            // posix_kill() would need ext/posix, which the test's php -n does not load.
            exec('kill -KILL ' . (int)$pid);
            pcntl_waitpid($pid, $status);
            check(false, "child $i did not finish within {$wait}s (killed)");
        } else {
            check($done === $pid && pcntl_wifexited($status) && pcntl_wexitstatus($status) === 0, "child $i exit status");
            $report = (string)file_get_contents($file);
            if ($report === 'client ' . ($i % count($clients)) . ' ok') {
                $ok++;
            } else {
                check(false, "child $i: $report");
            }
        }
        unlink($file);
        unset($children[$pid]);
    }
    if ($children !== [] && !$valgrind) {
        // While the children run, the parent keeps its runtime busy too.
        burst($signer, [$clients[0]], $public, 1);
    } elseif ($children !== []) {
        // Under valgrind the two cores are better left to the children.
        usleep(100_000);
    }
}
echo "$ok of ", CHILDREN, " children signed and called\n";
burst($signer, $clients, $public, 1);
done();
?>
--EXPECT--
20 of 20 children signed and called
done
