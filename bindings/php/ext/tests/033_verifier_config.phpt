--TEST--
goldplan: Verifier renames public_key in a configuration whose hash table is full (no read of freed memory; the valgrind pass catches it)
--EXTENSIONS--
goldplan
--FILE--
<?php
declare(strict_types=1);
require __DIR__ . '/helpers.inc';

use GoldPlan\Exception\ConfigurationException;
use GoldPlan\Verifier;

$pem = vector_file('keys/wechatpay_test_pubkey.pem');
// 8 entries fill the table zend_array_dup makes: adding public_key_pem grows it.
$full = ['public_key_id' => 'PUB_KEY_ID_0114232134912410000000000000000001', 'public_key' => $pem];
for ($i = 0; count($full) < 8; $i++) {
    $full["unknown_$i"] = $i;
}
try {
    new Verifier($full);
    check(false, 'unknown fields are refused');
} catch (ConfigurationException $e) {
    check(str_contains($e->getMessage(), 'unknown field `unknown_0`'), 'the library saw the renamed key and the rest: ' . $e->getMessage());
}
$ok = ['public_key_id' => 'PUB_KEY_ID_0114232134912410000000000000000001', 'public_key' => $pem];
same(strlen((new Verifier($ok))->encryptSensitive('x')['ciphertext']) > 0, true, 'a renamed public_key works');
done();
?>
--EXPECT--
done
