--TEST--
goldplan: parseNotification's replay guard (Client and Verifier): the PHP callable through the C API's replay hook
--EXTENSIONS--
goldplan
--FILE--
<?php
require __DIR__ . '/helpers.inc';

use GoldPlan\Client;
use GoldPlan\Exception as E;
use GoldPlan\Verifier;

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
$verifier = new Verifier(['public_key_id' => 'PUB_KEY_ID_0114232134912410000000000000000001', 'public_key' => vector_file('keys/wechatpay_test_pubkey.pem')]);
$parsers = [
    'client' => fn (array $h, string $b, ?callable $g) => $client->parseNotification($h, $b, $g),
    'verifier' => fn (array $h, string $b, ?callable $g) => $verifier->parseNotification($apiv3, $h, $b, 0, 0, $g),
];

foreach ($parsers as $who => $parse) {
    $body = sealed_notification($apiv3, ['out_trade_no' => "R-$who"], "EV-$who-1");
    $headers = signed_headers($body, time());
    $processed = [];
    $asked = [];
    $guard = function (string $id) use (&$processed, &$asked): bool {
        $asked[] = $id;
        return isset($processed[$id]);
    };
    same($parse($headers, $body, $guard)['id'], "EV-$who-1", "$who: a new id is parsed");
    $processed["EV-$who-1"] = true;
    $e = expect_throw(fn () => $parse($headers, $body, $guard), E\ReplayException::class, 'replay', "$who: a processed id");
    check($e !== null && str_contains($e->getMessage(), "EV-$who-1"), "$who: the message names the id");
    same($parse($headers, $body, null)['id'], "EV-$who-1", "$who: no guard, no check");
    same($asked, ["EV-$who-1", "EV-$who-1"], "$who: asked with the id, once per guarded parse");

    // Only authentic callbacks reach the guard.
    $asked = [];
    expect_throw(fn () => $parse($headers, $body . ' ', $guard), E\SignatureException::class, 'signature_invalid', "$who: altered");
    same($asked, [], "$who: the guard is not asked about an altered callback");

    // What the guard throws is thrown as is; a non-bool answer is bad input.
    $store = new RuntimeException('the replay store is down');
    try {
        $parse($headers, $body, function (string $id) use ($store): bool { throw $store; });
        check(false, "$who: the guard threw");
    } catch (RuntimeException $caught) {
        check($caught === $store, "$who: the guard's exception");
    }
    $bad = expect_throw(fn () => $parse($headers, $body, fn (string $id) => 'yes'), E\InvalidInputException::class, 'invalid_input', "$who: non-bool");
    same($bad?->getMessage(), 'the replay guard must return a bool, not string', "$who: the message");
    $bad = expect_throw(fn () => $parse($headers, $body, fn (string $id) => new ArrayObject()), E\InvalidInputException::class, 'invalid_input', "$who: object");
    same($bad?->getMessage(), 'the replay guard must return a bool, not ArrayObject', "$who: the class named");
    same($parse($headers, $body, fn (string $id): bool => false)['id'], "EV-$who-1", "$who: works afterwards");
}
done();
?>
--EXPECT--
done
