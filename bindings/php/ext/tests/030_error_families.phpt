--TEST--
goldplan: every error family from a real failure, with kind, family, status, code, Request-ID, retryable
--EXTENSIONS--
goldplan
--FILE--
<?php
require __DIR__ . '/helpers.inc';

use GoldPlan\Client;
use GoldPlan\Exception as E;
use GoldPlan\Protocol;
use GoldPlan\Verifier;

$seen = [];
function seen(?Throwable $e): void
{
    if ($e instanceof E\GoldPlanException) {
        $GLOBALS['seen'][$e->getFamily()] = true;
    }
}

$sb = sandbox('public_key');
$client = new Client(sandbox_config($sb, ['max_attempts' => 1]));
$client->changeGoldPlanStatus(SUB, 'OPEN'); // the advertising calls need Gold Plan on

// configuration
seen(expect_throw(fn () => new Client([]), E\ConfigurationException::class, 'configuration'));
seen(expect_throw(fn () => new Client(sandbox_config($sb, ['apiv3_key' => 'short'])), E\ConfigurationException::class, 'configuration', 'short APIv3 key'));
// invalid_input
seen(expect_throw(fn () => $client->changeGoldPlanStatus(SUB, 'MAYBE'), E\InvalidInputException::class, 'invalid_input'));
seen(expect_throw(fn () => $client->setAdvertisingIndustryFilter(SUB, []), E\InvalidInputException::class, 'invalid_input', 'no filters'));
// signature: the sandbox's response faults
$faults = ['bad_signature' => 'signature_invalid', 'stale_timestamp' => 'clock_skew', 'unknown_serial' => 'unknown_serial'];
foreach ($faults as $fault => $kind) {
    $sb->admin('POST', '/faults', ['kind' => $fault]);
    $e = expect_throw(fn () => $client->closeAdvertisingShow(SUB), E\SignatureException::class, $kind, "fault $fault");
    seen($e);
    check($e === null || is_string($e->getRequestId()), "fault $fault: the Request-ID of the refused response");
}
// encryption
seen(expect_throw(fn () => Protocol::aeadEncrypt('0123456789abcdefghijklmnopqrstuv', '', 'short', 'x'), E\EncryptionException::class, 'encryption'));
// decryption
seen(expect_throw(fn () => $client->decryptSensitive(base64_encode(str_repeat("\x01", 256))), E\DecryptionException::class, 'decryption'));
// certificate: a certificate-mode client against a public-key-only merchant
$certClient = new Client(sandbox_config($sb, ['mode' => 'certificate', 'max_attempts' => 1]));
seen(expect_throw(fn () => $certClient->closeAdvertisingShow(SUB), E\CertificateException::class, 'no_platform_certificate'));
// decode: a correctly signed callback whose body is not a notification
$verifier = new Verifier(['public_key_id' => 'PUB_KEY_ID_0114232134912410000000000000000001', 'public_key' => vector_file('keys/wechatpay_test_pubkey.pem')]);
$body = 'this is not JSON';
seen(expect_throw(fn () => $verifier->parseNotification(str_repeat('k', 32), signed_headers($body, time()), $body), E\DecodeException::class, 'decode'));
// replay: an authentic callback the replay guard reports as processed
$callback = sealed_notification(str_repeat('k', 32), ['out_trade_no' => 'E-1'], 'EV-errors-1');
seen(expect_throw(fn () => $verifier->parseNotification(str_repeat('k', 32), signed_headers($callback, time()), $callback, 0, 0, fn (string $id): bool => $id === 'EV-errors-1'), E\ReplayException::class, 'replay'));
// api: WeChat's error with status, code, Request-ID; a 500 is retryable
$api = expect_throw(fn () => $client->changeGoldPlanStatus('1234567890', 'OPEN'), E\ApiException::class, 'api');
seen($api);
check($api && $api->getStatus() === 400 && is_string($api->getCode()) && strlen($api->getCode()) > 0, 'API status and code');
check($api && is_string($api->getRequestId()) && !$api->isRetryable(), 'API Request-ID, not retryable');
$sb->admin('POST', '/faults', ['kind' => 'system_error']);
$sys = expect_throw(fn () => $client->closeAdvertisingShow(SUB), E\ApiException::class, 'api', 'system_error');
check($sys && $sys->getStatus() === 500 && $sys->getCode() === 'SYSTEM_ERROR' && $sys->isRetryable(), 'a 500 SYSTEM_ERROR is retryable');
$sb->admin('POST', '/faults', ['kind' => 'too_many_requests']);
$rl = expect_throw(fn () => $client->closeAdvertisingShow(SUB), E\ApiException::class, 'api', 'rate limit');
check($rl && $rl->getStatus() === 429, 'a 429');
// transport: nothing listens; a timeout
$closed = new Client(sandbox_config($sb, ['base_url' => 'http://127.0.0.1:9', 'max_attempts' => 1]));
$t = expect_throw(fn () => $closed->closeAdvertisingShow(SUB), E\TransportException::class, null, 'closed port');
seen($t);
check($t && $t->isRetryable() && $t->getStatus() === null && $t->getCode() === 0, 'transport: retryable, no status, code 0');
$sb->admin('POST', '/faults', ['kind' => 'delay', 'delay_ms' => 3000]);
$slow = new Client(sandbox_config($sb, ['timeout' => 0.3, 'max_attempts' => 1]));
seen(expect_throw(fn () => $slow->closeAdvertisingShow(SUB), E\TransportException::class, 'timeout'));
$sb->admin('DELETE', '/faults');
// after all that the client still works
same($client->closeAdvertisingShow(SUB), [], 'the client works after errors');

ksort($seen);
echo implode(' ', array_keys($seen)), "\n";
// signing and internal have no trigger through the C API (the signer cannot fail on a loaded
// key, panics are bugs): their classes are checked in 001.
done();
?>
--EXPECT--
api certificate configuration decode decryption encryption invalid_input replay signature transport
done
