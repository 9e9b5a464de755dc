<?php

declare(strict_types=1);

namespace GoldPlan\Tests;

use GoldPlan\Client;
use GoldPlan\Exception\InvalidInputException;
use GoldPlan\Protocol;
use GoldPlan\Signer;
use GoldPlan\Verifier;
use GoldPlan\Tests\Support\TestCase;

/**
 * Edge cases where the two doors once differed (found by running the same calls through
 * both and diffing): what goes out as JSON, what comes back, and how failures read.
 */
final class DoorParityTest extends TestCase
{
    private const KEY = '0123456789abcdefghijklmnopqrstuv';

    public function testAFloatWithoutFractionIsSentAsJsonEncodeSendsIt(): void
    {
        $fields = ['mchid' => '1900000100', 'nonce_str' => 'n', 'timestamp' => 1700000000, 'serial_no' => 's', 'signature' => 'x'];
        $want = Protocol::authorizationHeader($fields);
        self::assertSame($want, Protocol::authorizationHeader(['timestamp' => 1700000000.0] + $fields));
    }

    public function testEncodingFailuresReadTheSame(): void
    {
        $e = self::failure(fn () => new Client(['mchid' => "\xff"]), InvalidInputException::class, 'invalid_input');
        self::assertSame('the configuration cannot be sent as JSON: a string is not valid UTF-8', $e->getMessage());
        $e = self::failure(fn () => Protocol::authorizationHeader(['timestamp' => NAN]), InvalidInputException::class);
        self::assertSame('the Authorization fields cannot be sent as JSON: it contains INF or NAN', $e->getMessage());
        $verifier = new Verifier(['public_key_id' => self::GATEWAY_KEY_ID, 'public_key' => self::vectorFile('keys/wechatpay_test_pubkey.pem')]);
        $e = self::failure(fn () => $verifier->verify(['A' => "\xff"], '{}'), InvalidInputException::class);
        self::assertSame('the headers cannot be sent as JSON: a string is not valid UTF-8', $e->getMessage());
        $client = new Client(self::vectorConfig('http://127.0.0.1:9'));
        $e = self::failure(fn () => $client->request('POST', '/v3/x', ['a' => "\xff"]), InvalidInputException::class);
        self::assertSame('the arguments of request cannot be sent as JSON: a string is not valid UTF-8', $e->getMessage());
    }

    public function testIntegersBeyondPhpIntMaxComeBackAsExactStrings(): void
    {
        $plaintext = '{"amount":18446744073709551615,"small":7}';
        $nonce = 'abcdefghijkl';
        $sealed = openssl_encrypt($plaintext, 'aes-256-gcm', self::KEY, OPENSSL_RAW_DATA, $nonce, $tag, 'transaction');
        $body = json_encode(['id' => 'EV-big', 'create_time' => '2024-05-06T10:11:12+08:00', 'resource_type' => 'encrypt-resource',
            'event_type' => 'TRANSACTION.SUCCESS', 'summary' => 's', 'resource' => ['original_type' => 'transaction',
            'algorithm' => 'AEAD_AES_256_GCM', 'ciphertext' => base64_encode($sealed . $tag), 'associated_data' => 'transaction', 'nonce' => $nonce]]);
        $verifier = new Verifier(['public_key_id' => self::GATEWAY_KEY_ID, 'public_key' => self::vectorFile('keys/wechatpay_test_pubkey.pem')]);
        $n = $verifier->parseNotification(self::KEY, self::signedHeaders($body), $body);
        self::assertSame($plaintext, $n['plaintext']);
        self::assertSame(['amount' => '18446744073709551615', 'small' => 7], $n['resource']);
    }

    public function testASecondConstructorCallIsRefused(): void
    {
        $signer = new Signer(['mchid' => '1900000100', 'serial_no' => '3775B6A45ACD588826D15E583A95F5DD12345678', 'private_key' => self::vectorFile('keys/merchant_test_key.pem')]);
        $client = new Client(self::vectorConfig('http://127.0.0.1:9'));
        $verifier = new Verifier(['public_key_id' => self::GATEWAY_KEY_ID, 'public_key' => self::vectorFile('keys/wechatpay_test_pubkey.pem')]);
        foreach ([$signer, $client, $verifier] as $object) {
            try {
                $object->__construct([]);
                self::fail(get_class($object) . ': a second __construct() was accepted');
            } catch (\Error $e) {
                self::assertSame(get_class($object) . ' is already initialised', $e->getMessage());
            }
        }
        self::assertNotSame('', $signer->sign('still the first handle'));
    }
}
