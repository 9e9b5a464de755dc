--TEST--
goldplan: notification and sensitive-field vectors through Verifier and Signer
--EXTENSIONS--
goldplan
--FILE--
<?php
require __DIR__ . '/helpers.inc';

use GoldPlan\Signer;
use GoldPlan\Verifier;

$n = vectors('notification.json');
$verifier = new Verifier(['public_key_id' => $n['public_key_id'], 'public_key' => $n['public_key_pem']]);
foreach ($n['cases'] as $c) {
    if ($c['kind'] === 'notification') {
        $got = $verifier->parseNotification($c['apiv3_key'] ?? $n['apiv3_key'], $c['headers'], $c['body'], $c['now']);
        foreach (['id', 'event_type', 'resource_type', 'summary', 'create_time', 'original_type', 'plaintext'] as $f) {
            same($got[$f] ?? null, $c['expect'][$f], "{$c['name']}: $f");
        }
        same_sorted($got['resource'], json_decode($c['expect']['plaintext'], true), "{$c['name']}: resource decoded");
    } else {
        $got = $verifier->verify($c['headers'], $c['body'], $c['now']);
        same($got['serial'], $n['public_key_id'], "{$c['name']}: serial");
    }
    // the same headers as a list of [name, value] pairs
    $pairs = [];
    foreach ($c['headers'] as $k => $v) {
        $pairs[] = [$k, $v];
    }
    check(is_array($verifier->verify($pairs, $c['body'], $c['now'])), "{$c['name']}: pairs");
}
$families = [
    'clock_skew' => 'Signature', 'signature_invalid' => 'Signature', 'unknown_serial' => 'Signature',
    'signature_probe' => 'Signature', 'missing_header' => 'Signature', 'unsupported_signature_type' => 'Signature',
    'decryption' => 'Decryption',
];
foreach ($n['negative'] as $c) {
    $class = 'GoldPlan\\Exception\\' . $families[$c['expect_error']] . 'Exception';
    $key = $c['apiv3_key'] ?? $n['apiv3_key'];
    expect_throw(fn () => $c['kind'] === 'notification'
        ? $verifier->parseNotification($key, $c['headers'], $c['body'], $c['now'])
        : $verifier->verify($c['headers'], $c['body'], $c['now']), $class, $c['expect_error'], $c['name']);
}
echo 'notification: ', count($n['cases']), ' + ', count($n['negative']), "\n";

$s = vectors('sensitive.json');
$signer = new Signer(['mchid' => '1900000100', 'serial_no' => '3775B6A45ACD588826D15E583A95F5DD12345678', 'private_key' => vector_file($s['private_key'])]);
$toMerchant = new Verifier(['public_key_id' => 'PUB_KEY_ID_0114232134912410000000000000000099', 'public_key' => vector_file($s['public_key'])]);
foreach ($s['cases'] as $c) {
    $plain = $signer->decryptSensitive($c['ciphertext']);
    same($plain, $c['plaintext'], "{$c['name']}: decrypt");
    same(strlen($plain), $c['plaintext_len'], "{$c['name']}: length");
    $sealed = $toMerchant->encryptSensitive($c['plaintext']);
    same($sealed['wechatpay_serial'], 'PUB_KEY_ID_0114232134912410000000000000000099', "{$c['name']}: serial");
    same($signer->decryptSensitive($sealed['ciphertext']), $c['plaintext'], "{$c['name']}: round trip");
}
expect_throw(fn () => $toMerchant->encryptSensitive(str_repeat('x', $s['max_plaintext_len'] + 1)),
    GoldPlan\Exception\GoldPlanException::class, null, 'over the OAEP limit');
echo 'sensitive: ', count($s['cases']), "\n";
done();
?>
--EXPECTF--
notification: %d + %d
sensitive: %d
done
