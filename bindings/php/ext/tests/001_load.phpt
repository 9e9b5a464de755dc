--TEST--
goldplan: loaded, classes as in the stub, objects not cloneable or serializable
--EXTENSIONS--
goldplan
--FILE--
<?php
require __DIR__ . '/helpers.inc';

check(extension_loaded('goldplan'), 'loaded');
check((bool)preg_match('/^\d+\.\d+\.\d+/', GoldPlan\version()), 'version ' . GoldPlan\version());
foreach (['Client', 'Signer', 'Verifier', 'Protocol', 'Receipt'] as $name) {
    $class = new ReflectionClass("GoldPlan\\$name");
    check($class->isFinal(), "$name is final");
}
$families = ['Configuration', 'InvalidInput', 'Signature', 'Signing', 'Encryption', 'Decryption',
    'Certificate', 'Replay', 'Decode', 'Api', 'Transport', 'Internal'];
foreach ($families as $family) {
    $class = "GoldPlan\\Exception\\{$family}Exception";
    check(is_subclass_of($class, GoldPlan\Exception\GoldPlanException::class), "$class extends GoldPlanException");
}
check(is_subclass_of(GoldPlan\Exception\GoldPlanException::class, RuntimeException::class), 'base extends RuntimeException');
$e = new GoldPlan\Exception\ApiException('x');
same([$e->getKind(), $e->getFamily(), $e->getRequestId(), $e->getStatus(), $e->getDetail(), $e->isRetryable(), $e->getCode()],
    ['internal', 'internal', null, null, null, false, 0], 'defaults of a user-made exception');

$config = json_decode(file_get_contents(VECTORS . '/notification.json'), true);
$client = new GoldPlan\Client([
    'mchid' => '1900000100',
    'serial_no' => '3775B6A45ACD588826D15E583A95F5DD12345678',
    'private_key' => VECTORS . '/keys/merchant_test_key.pem',
    'apiv3_key' => $config['apiv3_key'],
    'public_key_id' => 'PUB_KEY_ID_0114232134912410000000000000000001',
    'public_key' => VECTORS . '/keys/wechatpay_test_pubkey.pem',
    'base_url' => 'http://127.0.0.1:9',
]);
same($client->lastRequestId(), null, 'no request yet');
expect_throw(fn () => clone $client, Error::class, null, 'clone');
expect_throw(fn () => serialize($client), Exception::class, null, 'serialize');
expect_throw(fn () => unserialize('O:15:"GoldPlan\Client":0:{}'), Exception::class, null, 'unserialize');
expect_throw(fn () => $client->__construct([]), Error::class, null, 'constructing twice');
expect_throw(fn () => (new ReflectionClass(GoldPlan\Client::class))->newInstanceWithoutConstructor(), ReflectionException::class, null, 'no constructor');
expect_throw(function () use ($client) { $client->mchid = 'x'; }, Error::class, null, 'no dynamic properties');
ob_start();
var_dump($client);
print_r($client);
var_export($client);
$shown = ob_get_clean() . json_encode($client) . json_encode((array)$client);
check(!str_contains($shown, $config['apiv3_key']) && !str_contains($shown, 'PRIVATE') && !str_contains($shown, 'merchant_test_key'), "nothing secret shown: $shown");
same(get_object_vars($client), [], 'no properties');
$signer = new GoldPlan\Signer(['mchid' => '1900000100', 'serial_no' => '3775B6A45ACD588826D15E583A95F5DD12345678', 'private_key' => VECTORS . '/keys/merchant_test_key.pem']);
$verifier = new GoldPlan\Verifier(['public_key_id' => 'PUB_KEY_ID_0114232134912410000000000000000001', 'public_key' => vector_file('keys/wechatpay_test_pubkey.pem')]);
foreach ([$signer, $verifier] as $object) {
    $name = get_class($object);
    expect_throw(fn () => clone $object, Error::class, null, "clone $name");
    expect_throw(fn () => serialize($object), Exception::class, null, "serialize $name");
    same(get_object_vars($object), [], "$name has no properties");
}
done();
?>
--EXPECT--
done
