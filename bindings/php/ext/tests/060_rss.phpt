--TEST--
goldplan: one client survives thousands of calls with bounded memory (RSS over 10 000 local and 2 000 sandbox calls)
--EXTENSIONS--
goldplan
--SKIPIF--
<?php
// Under valgrind (run-tests.php -m sets USE_ZEND_ALLOC=0) RSS means nothing and 12 000 calls
// take too long; the valgrind pass checks leaks instead.
if (getenv('USE_ZEND_ALLOC') === '0') die('skip RSS is measured without valgrind');
?>
--FILE--
<?php
require __DIR__ . '/helpers.inc';

use GoldPlan\Client;
use GoldPlan\Protocol;
use GoldPlan\Signer;
use GoldPlan\Verifier;

function rss_kib(): int
{
    preg_match('/^VmRSS:\s+(\d+) kB/m', file_get_contents('/proc/self/status'), $m);
    return (int)$m[1];
}

$n = vectors('notification.json');
$case = $n['cases'][0];
$verifier = new Verifier(['public_key_id' => $n['public_key_id'], 'public_key' => $n['public_key_pem']]);
$signer = new Signer(['mchid' => '1900000100', 'serial_no' => '3775B6A45ACD588826D15E583A95F5DD12345678', 'private_key' => vector_file('keys/merchant_test_key.pem')]);
$key = str_repeat('k', 32);

// One "call" of the local loop: a pure function, an AEAD round trip, a verified and decrypted
// callback, a receipt check, a signature every 10th time, and a failure (exception path).
$local = function (int $i) use ($verifier, $signer, $key, $n, $case): void {
    Protocol::messageToSign('POST', '/v3/x', 1700000000 + $i, "nonce$i", '{"i":' . $i . '}');
    $ct = Protocol::aeadEncrypt($key, 'ad', '0123456789ab', "plain $i");
    if (Protocol::aeadDecrypt($key, 'ad', '0123456789ab', $ct) !== "plain $i") {
        throw new LogicException('AEAD round trip');
    }
    $verifier->parseNotification($n['apiv3_key'], $case['headers'], $case['body'], $case['now']);
    Protocol::expectedCheckCode('https://shop.example.com/r', '1900000109', "T$i", "4200$i");
    if ($i % 10 === 0) {
        $signer->signRequest('GET', "/v3/x?i=$i");
    }
    try {
        Protocol::aeadDecrypt($key, 'ad', '0123456789ab', 'AAAA');
    } catch (GoldPlan\Exception\DecryptionException $e) {
    }
};

for ($i = 0; $i < 500; $i++) {
    $local($i); // warm up allocator pools and caches
}
gc_collect_cycles();
$before = rss_kib();
for ($i = 0; $i < 10000; $i++) {
    $local($i);
}
gc_collect_cycles();
$after = rss_kib();
printf("local: 10000 calls, RSS %d KiB -> %d KiB\n", $before, $after);
check($after - $before < 4096, "local calls grew RSS by " . ($after - $before) . " KiB");
$report = "local: 10000 calls, RSS $before KiB -> $after KiB (+" . ($after - $before) . " KiB)\n";

$sb = sandbox('combined');
$client = Client::fromFile($sb->configPath);
$client->changeGoldPlanStatus(SUB, 'OPEN');
for ($i = 0; $i < 200; $i++) {
    $client->closeAdvertisingShow(SUB);
}
gc_collect_cycles();
$before = rss_kib();
for ($i = 0; $i < 2000; $i++) {
    $client->closeAdvertisingShow(SUB);
    if ($i % 100 === 0) {
        try {
            $client->changeGoldPlanStatus('1234567890', 'OPEN'); // an API error now and then
        } catch (GoldPlan\Exception\ApiException $e) {
        }
    }
}
gc_collect_cycles();
$after = rss_kib();
printf("sandbox: 2000 calls, RSS %d KiB -> %d KiB\n", $before, $after);
check($after - $before < 4096, "sandbox calls grew RSS by " . ($after - $before) . " KiB");
$report .= "sandbox: 2000 calls, RSS $before KiB -> $after KiB (+" . ($after - $before) . " KiB)\n";
if (getenv('GOLDPLAN_RSS_REPORT')) {
    file_put_contents(getenv('GOLDPLAN_RSS_REPORT'), $report);
}
done();
?>
--EXPECTF--
local: 10000 calls, RSS %d KiB -> %d KiB
sandbox: 2000 calls, RSS %d KiB -> %d KiB
done
