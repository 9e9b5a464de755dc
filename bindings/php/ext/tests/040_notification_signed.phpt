--TEST--
goldplan: Client::parseNotification of a callback built and signed here with the vector keys, every header form
--EXTENSIONS--
goldplan
--FILE--
<?php
require __DIR__ . '/helpers.inc';

use GoldPlan\Client;
use GoldPlan\Exception as E;
use GoldPlan\Protocol;

$apiv3 = 'Xk29vLq8Tz4Wm7Np1Rc5Hd3Gf6Bs0Ja8';
$client = new Client([
    'mchid' => '1900000100',
    'serial_no' => '3775B6A45ACD588826D15E583A95F5DD12345678',
    'private_key' => VECTORS . '/keys/merchant_test_key.pem',
    'apiv3_key' => $apiv3,
    'public_key_id' => 'PUB_KEY_ID_0114232134912410000000000000000001',
    'public_key' => VECTORS . '/keys/wechatpay_test_pubkey.pem',
    'base_url' => 'http://127.0.0.1:9', // never called: callbacks are parsed offline
]);

$plaintext = json_encode(['out_trade_no' => 'PHP-SIGNED-1', 'trade_state' => 'SUCCESS', 'amount' => ['total' => 100]], JSON_UNESCAPED_UNICODE);
$nonce = 'fdasflkja484';
$make = fn (string $key) => json_encode([
    'id' => 'EV-2018022511223320873',
    'create_time' => '2024-01-01T10:00:00+08:00',
    'resource_type' => 'encrypt-resource',
    'event_type' => 'TRANSACTION.SUCCESS',
    'summary' => '支付成功',
    'resource' => [
        'original_type' => 'transaction',
        'algorithm' => 'AEAD_AES_256_GCM',
        'ciphertext' => Protocol::aeadEncrypt($key, 'transaction', $nonce, $plaintext),
        'associated_data' => 'transaction',
        'nonce' => $nonce,
    ],
], JSON_UNESCAPED_UNICODE);
$body = $make($apiv3);
$headers = signed_headers($body, time());

$forms = ['map' => $headers, 'lower-case names' => array_change_key_case($headers), 'lists of values' => array_map(fn ($v) => [$v], $headers)];
$pairs = [];
foreach ($headers as $name => $value) {
    $pairs[] = [$name, $value];
}
$forms['pairs'] = $pairs;
$forms['with other headers'] = ['Host' => 'shop.example.com', 'Content-Type' => 'application/json', 'Accept' => ['a', 'b']] + $headers;
foreach ($forms as $form => $h) {
    $n = $client->parseNotification($h, $body);
    same($n['id'], 'EV-2018022511223320873', "$form: id");
    same($n['event_type'], 'TRANSACTION.SUCCESS', "$form: event_type");
    same($n['summary'], '支付成功', "$form: summary");
    same($n['plaintext'], $plaintext, "$form: plaintext");
    same($n['resource']['amount']['total'] ?? null, 100, "$form: resource decoded");
}
echo count($forms), " header forms\n";

// refused: stale, altered, signed by someone else, encrypted under another key
expect_throw(fn () => $client->parseNotification(signed_headers($body, time() - 600), $body), E\SignatureException::class, 'clock_skew', 'stale');
expect_throw(fn () => $client->parseNotification($headers, $body . ' '), E\SignatureException::class, 'signature_invalid', 'altered');
expect_throw(fn () => $client->parseNotification(signed_headers($body, time(), 'n', 'PUB_KEY_ID_0114232134912410000000000000000002'), $body), E\SignatureException::class, 'unknown_serial', 'unknown key');
$other = $make(strrev($apiv3));
check($other !== $body, 'another ciphertext');
expect_throw(fn () => $client->parseNotification(signed_headers($other, time()), $other), E\DecryptionException::class, 'decryption', 'other APIv3 key');
done();
?>
--EXPECT--
5 header forms
done
