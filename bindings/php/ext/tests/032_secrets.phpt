--TEST--
goldplan: keys never appear in exception messages, traces, var_dump or print_r
--EXTENSIONS--
goldplan
--INI--
zend.exception_ignore_args=0
--FILE--
<?php
require __DIR__ . '/helpers.inc';

use GoldPlan\Client;
use GoldPlan\Protocol;
use GoldPlan\Signer;
use GoldPlan\Verifier;

$key = vector_file('keys/merchant_test_key.pem');
$keyLine = explode("\n", $key)[1];
$apiv3 = 'Zq8vT3kLm2Nw9Xc4Rb7Yh1Jd6Fg0Sp5A';
$base = [
    'mchid' => '1900000100', 'serial_no' => '3775B6A45ACD588826D15E583A95F5DD12345678',
    'private_key' => $key, 'apiv3_key' => $apiv3, 'public_key_id' => 'PUB_KEY_ID_0114232134912410000000000000000001',
    'public_key' => VECTORS . '/keys/wechatpay_test_pubkey.pem', 'base_url' => 'http://127.0.0.1:9', 'max_attempts' => 1,
];

function shown(mixed $v): string
{
    ob_start();
    var_dump($v);
    print_r($v);
    echo "\n", $v instanceof Throwable ? (string)$v : '', "\n";
    return ob_get_clean();
}

function no_secret(string $text, array $secrets, string $what): void
{
    foreach ($secrets as $s) {
        check(!str_contains($text, $s), "$what shows a secret: $text");
    }
}

$secrets = [$keyLine, $apiv3, substr($apiv3, 0, 31), 'PRIVATE KEY'];
$client = new Client($base);
no_secret(shown($client), $secrets, 'var_dump($client)');
no_secret(shown(new Signer($base)), $secrets, 'var_dump($signer)');

$cases = [
    'short APIv3 key' => fn () => new Client(['apiv3_key' => substr($apiv3, 0, 31)] + $base),
    'broken key' => fn () => new Client(['private_key' => str_replace($keyLine, strrev($keyLine), $key)] + $base),
    'key for another serial' => fn () => new Client(['merchant_certificate' => vector_file('keys/platform_test_cert.pem')] + $base),
    'signer without mchid' => fn () => new Signer(array_diff_key($base, ['mchid' => 1])),
    'AEAD with a wrong key' => fn () => Protocol::aeadDecrypt($apiv3, 'x', '0123456789ab', base64_encode(str_repeat('z', 40))),
    'notification with a key' => fn () => (new Verifier(['public_key_id' => 'PUB_KEY_ID_1', 'public_key' => vector_file('keys/wechatpay_test_pubkey.pem')]))
        ->parseNotification($apiv3, [], '{}'),
    'transport' => fn () => $client->closeAdvertisingShow(SUB),
];
foreach ($cases as $what => $f) {
    $e = expect_throw($f, GoldPlan\Exception\GoldPlanException::class, null, $what);
    if ($e) {
        no_secret(shown($e), $secrets, $what);
        no_secret(json_encode($e->getTrace()), $secrets, "$what trace");
    }
}
echo count($cases), " failures looked at\n";
done();
?>
--EXPECT--
7 failures looked at
done
