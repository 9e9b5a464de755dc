--TEST--
goldplan: Verifier hands a full configuration table to the library as it is (unknown fields refused, public_key accepted)
--EXTENSIONS--
goldplan
--FILE--
<?php
declare(strict_types=1);
require __DIR__ . '/helpers.inc';

use GoldPlan\Exception\ConfigurationException;
use GoldPlan\Verifier;

$pem = vector_file('keys/wechatpay_test_pubkey.pem');
// 8 entries: a full table (the extension once copied and grew it, and read freed memory).
$full = ['public_key_id' => 'PUB_KEY_ID_0114232134912410000000000000000001', 'public_key' => $pem];
for ($i = 0; count($full) < 8; $i++) {
    $full["unknown_$i"] = $i;
}
try {
    new Verifier($full);
    check(false, 'unknown fields are refused');
} catch (ConfigurationException $e) {
    check(str_contains($e->getMessage(), 'unknown field `unknown_0`'), 'the library saw every key: ' . $e->getMessage());
}
$ok = ['public_key_id' => 'PUB_KEY_ID_0114232134912410000000000000000001', 'public_key' => $pem];
same(strlen((new Verifier($ok))->encryptSensitive('x')['ciphertext']) > 0, true, 'public_key works');
done();
?>
--EXPECT--
done
