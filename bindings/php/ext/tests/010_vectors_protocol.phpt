--TEST--
goldplan: vectors of messages, canonical URLs, Authorization headers, signing, AEAD and receipts
--EXTENSIONS--
goldplan
--FILE--
<?php
require __DIR__ . '/helpers.inc';

use GoldPlan\Protocol;
use GoldPlan\Receipt;
use GoldPlan\Signer;

$m = vectors('messages.json');
foreach ($m['cases'] as $c) {
    if ($c['kind'] === 'request') {
        $got = Protocol::messageToSign($c['method'], $c['canonical_url'], (int)$c['timestamp'], $c['nonce'], $c['body']);
        $path = substr($c['url'], strpos($c['url'], '/', strpos($c['url'], '://') + 3));
        same(Protocol::canonicalUrl($path), $c['canonical_url'], "{$c['name']}: canonical URL");
    } else {
        $got = Protocol::messageToVerify($c['timestamp'], $c['nonce'], $c['body']);
    }
    same($got, $c['message'], "{$c['name']}: message");
    same(strlen($got), $c['len'], "{$c['name']}: length");
    same(hash('sha256', $got), $c['sha256'], "{$c['name']}: sha256");
}
echo 'messages: ', count($m['cases']), "\n";

$a = vectors('authorization.json');
$key = vector_file($a['private_key']);
$signed = 0;
foreach ($a['cases'] as $c) {
    if ($c['signature'] !== 'SIG') {
        $signer = new Signer(['mchid' => $c['mchid'], 'serial_no' => $c['serial_no'], 'private_key' => $key]);
        same($signer->sign($c['message']), $c['signature'], "{$c['name']}: signature");
        $signed++;
    }
    $header = Protocol::authorizationHeader([
        'mchid' => $c['mchid'], 'nonce_str' => $c['nonce'], 'timestamp' => (int)$c['timestamp'],
        'serial_no' => $c['serial_no'], 'signature' => $c['signature'],
    ]);
    same($header, $c['expected'], "{$c['name']}: header");
}
same($signed, 1, 'one really signed Authorization case');
echo 'authorization: ', count($a['cases']), "\n";

$s = vectors('signing.json');
$signers = [
    new Signer(['mchid' => '1900000100', 'serial_no' => $s['serial_no'], 'private_key' => vector_file($s['key_pkcs8'])]),
    // a path works too, and PKCS#1 gives the same signatures
    new Signer(['mchid' => '1900000100', 'serial_no' => $s['serial_no'], 'private_key' => VECTORS . '/' . $s['key_pkcs1']]),
];
$public = openssl_pkey_get_public(vector_file($s['public_key']));
foreach ($s['cases'] as $c) {
    foreach ($signers as $i => $signer) {
        same($signer->sign($c['message']), $c['signature'], "{$c['name']}: signer $i");
    }
    // independent check with PHP's openssl
    same(openssl_verify($c['message'], base64_decode($c['signature']), $public, OPENSSL_ALGO_SHA256), 1, "{$c['name']}: openssl verifies");
}
echo 'signing: ', count($s['cases']), "\n";

// signRequest: what it signs is messageToSign of its own fields
$r = $signers[0]->signRequest('POST', '/v3/goldplan/merchants/changegoldplanstatus?x=1', '{"a":1}', 1700000000);
same([$r['method'], $r['canonical_url'], $r['timestamp']], ['POST', '/v3/goldplan/merchants/changegoldplanstatus?x=1', 1700000000], 'signRequest fields');
$msg = Protocol::messageToSign('POST', $r['canonical_url'], 1700000000, $r['nonce_str'], '{"a":1}');
same(openssl_verify($msg, base64_decode($r['signature']), $public, OPENSSL_ALGO_SHA256), 1, 'signRequest signature verifies');
check(str_starts_with($r['authorization'], 'WECHATPAY2-SHA256-RSA2048 mchid="1900000100"'), 'authorization ' . $r['authorization']);
$now = $signers[0]->signRequest('GET', '/v3/certificates');
check(abs((int)$now['timestamp'] - time()) < 60, 'timestamp 0 is now');

$g = vectors('aead.json');
foreach ($g['cases'] as $c) {
    same(Protocol::aeadDecrypt($g['key'], $c['associated_data'], $c['nonce'], $c['ciphertext']), $c['plaintext'], "{$c['name']}: decrypt");
    same(Protocol::aeadEncrypt($g['key'], $c['associated_data'], $c['nonce'], $c['plaintext']), $c['ciphertext'], "{$c['name']}: encrypt");
}
foreach ($g['negative'] as $c) {
    expect_throw(fn () => Protocol::aeadDecrypt($c['key'] ?? $g['key'], $c['associated_data'], $c['nonce'], $c['ciphertext']),
        GoldPlan\Exception\DecryptionException::class, $c['expect_error'], $c['name']);
}
echo 'aead: ', count($g['cases']), ' + ', count($g['negative']), "\n";

$rc = vectors('receipt.json');
foreach ($rc['cases'] as $c) {
    same(Protocol::expectedCheckCode($c['configured_link'], $c['sub_mch_id'], $c['out_trade_no'], $c['transaction_id']), $c['expected_check_code'], "{$c['name']}: check code");
    same(Protocol::verifyCheckCode($c['configured_link'], $c['sub_mch_id'], $c['out_trade_no'], $c['transaction_id'], $c['check_code']), $c['valid'], "{$c['name']}: verify");
}
foreach ($rc['negative'] as $c) {
    same(Protocol::verifyCheckCode($c['configured_link'], $c['sub_mch_id'], $c['out_trade_no'], $c['transaction_id'], $c['check_code']), false, "{$c['name']}: refused");
    same(Protocol::expectedCheckCode($c['configured_link'], $c['sub_mch_id'], $c['out_trade_no'], $c['transaction_id']), $c['expected_check_code'], "{$c['name']}: check code");
}
foreach ($rc['urls'] as $u) {
    $p = Protocol::parseReceiptQuery($u['url']);
    foreach (['sub_mch_id', 'out_trade_no', 'check_code'] as $f) {
        same_sorted($p[$f], $u[$f], "{$u['name']}: $f");
    }
}
foreach ([...$rc['cases'], ...$rc['negative']] as $c) {
    same(Protocol::checkCodeInput($c['configured_link'], $c['sub_mch_id'], $c['out_trade_no'], $c['transaction_id']), $c['string_to_hash'], "{$c['name']}: check code input");
}
echo 'receipt: ', count($rc['cases']), ' + ', count($rc['negative']), ' + ', count($rc['urls']), "\n";
// The former names: deprecated aliases (E_DEPRECATED from the stub's @deprecated), same results.
$c = $rc['cases'][0];
$args = [$c['configured_link'], $c['sub_mch_id'], $c['out_trade_no'], $c['transaction_id']];
$notices = [];
set_error_handler(function (int $level, string $message) use (&$notices): bool {
    $notices[] = "$level $message";
    return true;
});
$aliases = [Receipt::checkCode(...$args), Receipt::verifyCheckCode(...[...$args, $c['check_code']]), Receipt::parseUrl($rc['urls'][0]['url'])];
restore_error_handler();
same($aliases, [Protocol::expectedCheckCode(...$args), Protocol::verifyCheckCode(...[...$args, $c['check_code']]), Protocol::parseReceiptQuery($rc['urls'][0]['url'])], 'the aliases answer alike');
same($notices, [
    E_DEPRECATED . ' Method GoldPlan\\Receipt::checkCode() is deprecated',
    E_DEPRECATED . ' Method GoldPlan\\Receipt::verifyCheckCode() is deprecated',
    E_DEPRECATED . ' Method GoldPlan\\Receipt::parseUrl() is deprecated',
], 'the aliases are deprecated');
done();
?>
--EXPECTF--
messages: %d
authorization: %d
signing: %d
aead: %d + %d
receipt: %d + %d + %d
done
