<?php

declare(strict_types=1);

namespace GoldPlan\Tests;

use GoldPlan\Client;
use GoldPlan\Exception\ConfigurationException;
use GoldPlan\Exception\InvalidInputException;
use GoldPlan\Exception\SignatureException;
use GoldPlan\Exception\TransportException;
use GoldPlan\Protocol;
use GoldPlan\Signer;
use GoldPlan\Tests\Support\TestCase;
use GoldPlan\Verifier;

/** Wrong types, missing keys and invalid UTF-8: typed errors, never a crash. */
final class BadInputTest extends TestCase
{
    private static function typeError(callable $f): void
    {
        try {
            $f();
        } catch (\TypeError $e) {
            self::assertNotSame('', $e->getMessage());
            return;
        }
        self::fail('expected a TypeError');
    }

    public function testWrongPhpTypesAreTypeErrors(): void
    {
        $client = new Client(self::vectorConfig('http://127.0.0.1:9'));
        // strict_types=1 here, as in the applications that use it; the extension's arginfo and
        // the package's signatures are the same, so both doors throw TypeError.
        self::typeError(fn () => new Client('nope'));
        self::typeError(fn () => new Client(null));
        self::typeError(fn () => $client->changeGoldPlanStatus(1900000109, 'OPEN'));
        self::typeError(fn () => $client->changeGoldPlanStatus(self::SUB, null));
        self::typeError(fn () => $client->request('POST', '/v3/x', 12));
        self::typeError(fn () => $client->uploadImage('a.png', 12));
        self::typeError(fn () => $client->encryptSensitive(null));
        self::typeError(fn () => $client->parseNotification('headers', '{}'));
        self::typeError(fn () => $client->parseNotification([], 42));
        self::typeError(fn () => $client->parseNotification([], '{}', 'no such function'));
        self::typeError(fn () => Protocol::messageToSign('POST', '/v3', 'soon', 'n', ''));
        self::typeError(fn () => Protocol::verifyCheckCode('a', 'b', 'c', 'd', 5));
        self::typeError(fn () => Client::fromFile(['x']));
        self::typeError(fn () => new Signer('x'));
        self::typeError(fn () => (new Verifier(['public_key_id' => self::GATEWAY_KEY_ID, 'public_key' => self::vectorFile('keys/wechatpay_test_pubkey.pem')]))->verify([], '', 'now'));
    }

    public function testMissingAndWrongConfigurationKeys(): void
    {
        $base = self::vectorConfig('http://127.0.0.1:9');
        $without = fn (string $key) => array_diff_key($base, [$key => true]);
        self::failure(fn () => new Client([]), ConfigurationException::class, 'configuration');
        self::failure(fn () => new Client(['mchid' => '1900000100']), ConfigurationException::class);
        self::failure(fn () => new Client($without('private_key')), ConfigurationException::class);
        self::failure(fn () => new Client($without('serial_no')), ConfigurationException::class);
        self::failure(fn () => new Client(['mchid' => 1900000100] + $base), ConfigurationException::class);
        self::failure(fn () => new Client(['private_key' => 42] + $base), ConfigurationException::class);
        self::failure(fn () => new Client(['private_key' => '/nonexistent/apiclient_key.pem'] + $base), ConfigurationException::class);
        self::failure(fn () => new Client(['mode' => 'sideways'] + $base), ConfigurationException::class);
        self::failure(fn () => new Client(['private_key' => self::VECTORS . '/keys/rsa1024_test_key.pem'] + $base), ConfigurationException::class);
        self::failure(fn () => new Client(['a', 'b']), ConfigurationException::class);
        self::failure(fn () => Client::fromFile('/nonexistent/sandbox.json'), ConfigurationException::class);
        self::failure(fn () => Client::fromFile(''), ConfigurationException::class);
        self::failure(fn () => new Signer([]), ConfigurationException::class);
        self::failure(fn () => new Signer(['mchid' => '1900000100']), ConfigurationException::class);
        self::failure(fn () => new Verifier([]), ConfigurationException::class);
        self::failure(fn () => new Verifier(['platform_certificates' => ['not a certificate']]), \GoldPlan\Exception\GoldPlanException::class);
        // public_key takes PEM text or a path, as in a client's configuration; not both names.
        $path = self::VECTORS . '/keys/wechatpay_test_pubkey.pem';
        self::assertNotEmpty((new Verifier(['public_key_id' => self::GATEWAY_KEY_ID, 'public_key' => $path]))->encryptSensitive('x')['ciphertext']);
        self::failure(fn () => new Verifier(['public_key_id' => self::GATEWAY_KEY_ID, 'public_key' => $path, 'public_key_pem' => self::vectorFile('keys/wechatpay_test_pubkey.pem')]), ConfigurationException::class);
    }

    public function testWrongValuesInArguments(): void
    {
        $client = new Client(self::vectorConfig('http://127.0.0.1:9'));
        self::failure(fn () => $client->changeGoldPlanStatus(self::SUB, 'OPEN', 'EVERYWHERE'), InvalidInputException::class);
        self::failure(fn () => $client->setAdvertisingIndustryFilter(self::SUB, [1, 2]), InvalidInputException::class);
        // The filters are a list whatever the PHP keys: valid, so sent (to nothing listening).
        self::failure(fn () => $client->setAdvertisingIndustryFilter(self::SUB, ['a' => 'SOFTWARE']), TransportException::class);
        self::failure(fn () => $client->setAdvertisingIndustryFilter(self::SUB, ['SOFTWARE', 'FOOD', 'FINANCE', 'TOURISM']), InvalidInputException::class);
        self::failure(fn () => $client->openAdvertisingShow(self::SUB, [['SOFTWARE']]), InvalidInputException::class);
        self::failure(fn () => $client->request('GET', ''), InvalidInputException::class);
        self::failure(fn () => $client->parseNotification(['Wechatpay-Serial' => 1], '{}'), InvalidInputException::class);
        self::failure(fn () => $client->parseNotification([['a', 'b', 'c']], '{}'), InvalidInputException::class);
        self::failure(fn () => $client->parseNotification([], str_repeat(' ', 2 * 1024 * 1024)), InvalidInputException::class);
        self::failure(fn () => Protocol::authorizationHeader(['x' => 1]), InvalidInputException::class);
        self::failure(fn () => Protocol::authorizationHeader([]), InvalidInputException::class);
        self::failure(fn () => Protocol::parseReceiptQuery('nonsense'), InvalidInputException::class);
        // NUL bytes travel with their length: the body is signed as given, not cut short.
        $signer = new Signer(self::vectorConfig(''));
        self::assertNotSame($signer->sign("a\0b"), $signer->sign('a'));
    }

    public function testInvalidUtf8(): void
    {
        $client = new Client(self::vectorConfig('http://127.0.0.1:9'));
        $bad = "\xc3\x28";
        self::failure(fn () => new Client(['mchid' => $bad] + self::vectorConfig('http://127.0.0.1:9')), InvalidInputException::class);
        self::failure(fn () => new Signer(['mchid' => $bad, 'serial_no' => 'x', 'private_key' => 'y']), InvalidInputException::class);
        self::failure(fn () => Client::fromFile("/tmp/$bad.json"), InvalidInputException::class);
        self::failure(fn () => $client->changeGoldPlanStatus($bad, 'OPEN'), InvalidInputException::class);
        self::failure(fn () => $client->closeAdvertisingShow($bad), InvalidInputException::class);
        self::failure(fn () => $client->request('POST', '/v3/x', $bad), InvalidInputException::class);
        self::failure(fn () => $client->request('POST', "/v3/$bad"), InvalidInputException::class);
        self::failure(fn () => $client->request('POST', '/v3/x', ['k' => $bad]), InvalidInputException::class);
        self::failure(fn () => $client->uploadImage($bad, 'png'), InvalidInputException::class);
        self::failure(fn () => $client->encryptSensitive($bad), InvalidInputException::class);
        self::failure(fn () => $client->decryptSensitive($bad), InvalidInputException::class);
        self::failure(fn () => $client->parseNotification(['Wechatpay-Nonce' => $bad], '{}'), InvalidInputException::class);
        self::failure(fn () => Protocol::canonicalUrl($bad), InvalidInputException::class);
        self::failure(fn () => Protocol::messageToVerify($bad, 'n', ''), InvalidInputException::class);
        self::failure(fn () => Protocol::authorizationHeader(['mchid' => $bad]), InvalidInputException::class);
        self::failure(fn () => Protocol::expectedCheckCode($bad, '1', '2', '3'), InvalidInputException::class);
        // Bodies are bytes: any bytes are signed, and a non-UTF-8 callback body is simply unauthentic.
        $signer = new Signer(self::vectorConfig(''));
        self::assertSame(344, strlen($signer->sign($bad)));
        self::failure(fn () => $client->parseNotification(self::signedHeaders('{}'), $bad), SignatureException::class);
    }
}
