--TEST--
goldplan: bad input (wrong types, missing keys, invalid UTF-8, unknown enum values, huge strings) gives typed exceptions
--EXTENSIONS--
goldplan
--INI--
memory_limit=512M
--FILE--
<?php
declare(strict_types=1);
require __DIR__ . '/helpers.inc';

use GoldPlan\Client;
use GoldPlan\Exception as E;
use GoldPlan\Protocol;
use GoldPlan\Signer;
use GoldPlan\Verifier;

$key = vector_file('keys/merchant_test_key.pem');
$base = [
    'mchid' => '1900000100',
    'serial_no' => '3775B6A45ACD588826D15E583A95F5DD12345678',
    'private_key' => $key,
    'apiv3_key' => str_repeat('a', 32),
    'public_key_id' => 'PUB_KEY_ID_0114232134912410000000000000000001',
    'public_key' => VECTORS . '/keys/wechatpay_test_pubkey.pem',
    'base_url' => 'http://127.0.0.1:9',
    'max_attempts' => 1,
];
json_decode('{'); // json_last_error() must survive every call below
$client = new Client($base);

// wrong types: PHP's TypeError from the signatures
expect_throw(fn () => new Client('nope'), TypeError::class);
expect_throw(fn () => $client->closeAdvertisingShow(1900000109), TypeError::class);
expect_throw(fn () => $client->setAdvertisingIndustryFilter(SUB, 'SOFTWARE'), TypeError::class);
expect_throw(fn () => $client->request('POST', '/v3/x', 12), TypeError::class);
expect_throw(fn () => $client->parseNotification('headers', '{}'), TypeError::class);
expect_throw(fn () => Protocol::messageToSign('POST', '/v3', 'soon', 'n', ''), TypeError::class);
expect_throw(fn () => $client->changeGoldPlanStatus(), ArgumentCountError::class);

// missing keys and bad values in configurations
expect_throw(fn () => new Client(array_diff_key($base, ['private_key' => 1])), E\ConfigurationException::class, 'configuration', 'no private key');
expect_throw(fn () => new Client(array_diff_key($base, ['mchid' => 1])), E\ConfigurationException::class, 'configuration', 'no mchid');
expect_throw(fn () => new Client(['private_key' => $key, 'private_key_pem' => $key] + $base), E\ConfigurationException::class, null, 'a setting twice');
expect_throw(fn () => new Client(['mode' => 'sideways'] + $base), E\ConfigurationException::class, null, 'unknown mode');
expect_throw(fn () => new Client(['mchid' => 1900000100] + $base), E\ConfigurationException::class, null, 'mchid as a number');
expect_throw(fn () => new Client(['private_key' => '/nonexistent/apiclient_key.pem'] + $base), E\ConfigurationException::class, null, 'missing key file');
expect_throw(fn () => new Client(['private_key' => vector_file('keys/rsa1024_test_key.pem')] + $base), E\ConfigurationException::class, null, 'RSA-1024');
expect_throw(fn () => new Client([1, 2, 3]), E\ConfigurationException::class, null, 'a list');
expect_throw(fn () => Client::fromFile('/nonexistent/sandbox.json'), E\ConfigurationException::class, null, 'missing file');
expect_throw(fn () => Client::fromFile("bad\0path"), E\GoldPlanException::class, null, 'NUL in a path');
expect_throw(fn () => new Signer([]), E\ConfigurationException::class, null, 'empty signer');
expect_throw(fn () => new Verifier([]), E\ConfigurationException::class, null, 'empty verifier');
expect_throw(fn () => new Verifier(['public_key_id' => 'PUB_KEY_ID_1', 'public_key' => 'not a key']), E\ConfigurationException::class, null, 'bad public key');
expect_throw(fn () => new Verifier(['platform_certificates' => ['not a certificate']]), E\GoldPlanException::class, null, 'bad certificate');

// values PHP cannot express in JSON
$cycle = ['a' => 1];
$cycle['self'] = &$cycle;
expect_throw(fn () => new Client($cycle), E\InvalidInputException::class, 'invalid_input', 'recursive config');
unset($cycle['self'], $cycle); // the cycle is the test's, not the extension's: free it
gc_collect_cycles();
expect_throw(fn () => new Client(['timeout' => INF] + $base), E\InvalidInputException::class, 'invalid_input', 'INF');
expect_throw(fn () => new Client(['proxy' => STDIN] + $base), E\InvalidInputException::class, 'invalid_input', 'a resource');

// invalid UTF-8 anywhere
$bad = "\xff\xfe";
expect_throw(fn () => new Client(['mchid' => $bad] + $base), E\InvalidInputException::class, 'invalid_input', 'UTF-8 config');
expect_throw(fn () => new Client([$bad => 1] + $base), E\InvalidInputException::class, 'invalid_input', 'UTF-8 config key');
expect_throw(fn () => $client->changeGoldPlanStatus($bad, 'OPEN'), E\InvalidInputException::class, 'invalid_input', 'UTF-8 sub_mchid');
expect_throw(fn () => $client->setAdvertisingIndustryFilter(SUB, [$bad]), E\InvalidInputException::class, 'invalid_input', 'UTF-8 filter');
expect_throw(fn () => $client->request('POST', '/v3/x', ['a' => $bad]), E\InvalidInputException::class, 'invalid_input', 'UTF-8 body');
expect_throw(fn () => $client->request('POST', '/v3/x', "{\"a\":\"$bad\"}"), E\InvalidInputException::class, 'invalid_input', 'UTF-8 body text');
expect_throw(fn () => $client->request('POST', "/v3/$bad"), E\InvalidInputException::class, 'invalid_input', 'UTF-8 path');
expect_throw(fn () => $client->parseNotification(['Wechatpay-Serial' => $bad], '{}'), E\InvalidInputException::class, 'invalid_input', 'UTF-8 header');
expect_throw(fn () => $client->encryptSensitive($bad), E\InvalidInputException::class, 'invalid_input', 'UTF-8 plaintext');
expect_throw(fn () => $client->decryptSensitive($bad), E\InvalidInputException::class, 'invalid_input', 'UTF-8 ciphertext');
expect_throw(fn () => Protocol::canonicalUrl("/v3/$bad"), E\InvalidInputException::class, 'invalid_input', 'UTF-8 URL');
expect_throw(fn () => Protocol::messageToSign($bad, '/v3', 1, 'n', ''), E\InvalidInputException::class, 'invalid_input', 'UTF-8 method');
expect_throw(fn () => Protocol::authorizationHeader(['mchid' => $bad]), E\InvalidInputException::class, 'invalid_input', 'UTF-8 fields');
expect_throw(fn () => Protocol::expectedCheckCode($bad, '1', '2', '3'), E\InvalidInputException::class, 'invalid_input', 'UTF-8 link');
// bytes are bytes: a body to sign may be anything
check(strlen((new Signer($base))->sign($bad)) === 344, 'binary message signs');

// unknown enum values and malformed arguments
expect_throw(fn () => $client->changeGoldPlanStatus(SUB, 'MAYBE'), E\InvalidInputException::class, 'invalid_input', 'operation type');
expect_throw(fn () => $client->changeGoldPlanStatus(SUB, 'OPEN', 'EVERYWHERE'), E\InvalidInputException::class, 'invalid_input', 'pay scene');
expect_throw(fn () => $client->setAdvertisingIndustryFilter(SUB, ['SOFTWARE', 'SPACE']), E\InvalidInputException::class, 'invalid_input', 'industry');
expect_throw(fn () => $client->setAdvertisingIndustryFilter(SUB, ['SOFTWARE', 'FOOD', 'FINANCE', 'TOURISM']), E\InvalidInputException::class, 'invalid_input', 'four filters');
expect_throw(fn () => $client->setAdvertisingIndustryFilter(SUB, [['SOFTWARE']]), E\InvalidInputException::class, 'invalid_input', 'nested filter');
expect_throw(fn () => $client->openAdvertisingShow(SUB, [1]), E\InvalidInputException::class, 'invalid_input', 'a number as filter');
expect_throw(fn () => $client->request('GET', ''), E\InvalidInputException::class, 'invalid_input', 'empty path');
expect_throw(fn () => $client->request('BREW', '/v3/x'), E\GoldPlanException::class, null, 'unknown method');
expect_throw(fn () => $client->parseNotification(['Wechatpay-Serial' => 12], '{}'), E\InvalidInputException::class, 'invalid_input', 'header value not a string');
expect_throw(fn () => $client->parseNotification([['only-a-name']], '{}'), E\InvalidInputException::class, 'invalid_input', 'not a pair');
expect_throw(fn () => $client->parseNotification(['x' => [['nested']]], '{}'), E\InvalidInputException::class, 'invalid_input', 'nested header values');
expect_throw(fn () => $client->parseNotification([], '{}'), E\SignatureException::class, 'missing_header', 'no headers');
expect_throw(fn () => Protocol::authorizationHeader([]), E\InvalidInputException::class, 'invalid_input', 'no fields');
expect_throw(fn () => Protocol::authorizationHeader(['mchid' => '1', 'nonce_str' => 'n', 'timestamp' => 'soon', 'serial_no' => 's', 'signature' => 'x']), E\InvalidInputException::class, 'invalid_input', 'timestamp text');
expect_throw(fn () => Protocol::aeadDecrypt('short', '', '0123456789ab', 'AAAA'), E\GoldPlanException::class, null, 'short APIv3 key');
expect_throw(fn () => Protocol::aeadDecrypt(str_repeat('k', 32), '', '0123456789ab', '***'), E\DecryptionException::class, null, 'not base64');
expect_throw(fn () => Protocol::parseReceiptQuery('https://example.com/'), E\GoldPlanException::class, null, 'receipt URL without query');

// huge inputs: refused by the library's limits, never a crash
$huge = str_repeat('a', 65 * 1024 * 1024);
expect_throw(fn () => Protocol::canonicalUrl('/' . $huge), E\InvalidInputException::class, 'invalid_input', '65 MiB URL');
expect_throw(fn () => $client->parseNotification(['Wechatpay-Serial' => 'x'], str_repeat(' ', 2 * 1024 * 1024)), E\InvalidInputException::class, 'invalid_input', '2 MiB callback');
unset($huge);
expect_throw(fn () => $client->encryptSensitive(str_repeat('x', 215)), E\GoldPlanException::class, null, 'OAEP limit');

same(json_last_error(), JSON_ERROR_SYNTAX, 'json_last_error() untouched');
// and the client still works (the closed port answers with a transport error)
expect_throw(fn () => $client->closeAdvertisingShow(SUB), E\TransportException::class, null, 'still usable');
done();
?>
--EXPECT--
done
