<?php

declare(strict_types=1);

namespace GoldPlan\Tests;

use GoldPlan\Client;
use GoldPlan\Exception\DecryptionException;
use GoldPlan\Exception\GoldPlanException;
use GoldPlan\Exception\SignatureException;
use GoldPlan\Protocol;
use GoldPlan\Receipt;
use GoldPlan\Signer;
use GoldPlan\Tests\Support\Sandbox;
use GoldPlan\Tests\Support\TestCase;
use GoldPlan\Verifier;

/** Every file of tests/vectors through Signer, Verifier, Protocol and Receipt. */
final class VectorsTest extends TestCase
{
    private const PK_ID = 'PUB_KEY_ID_0114232134912410000000000000000099';
    /** Vector files with a test class of their own. */
    private const READ_ELSEWHERE = ['secret_sweep.json' => SecretSweepTest::class];

    public function testEveryVectorFileHasAReader(): void
    {
        $files = array_map('basename', glob(self::VECTORS . '/*.json') ?: []);
        sort($files);
        $readers = ['aead.json', 'authorization.json', 'certificates.json', 'messages.json', 'notification.json', 'payments.json', 'receipt.json', 'secret_sweep.json', 'sensitive.json', 'signing.json'];
        self::assertSame($readers, $files, 'a vector file without a reader in the PHP suite is a defect');
        foreach ($files as $file) {
            if (isset(self::READ_ELSEWHERE[$file])) {
                self::assertTrue(class_exists(self::READ_ELSEWHERE[$file]), "no reader of $file");
                continue;
            }
            $method = 'test' . ucfirst(basename($file, '.json'));
            self::assertTrue(method_exists($this, $method), "no $method");
        }
    }

    public function testMessages(): void
    {
        $cases = self::vector('messages.json')['cases'];
        self::assertNotEmpty($cases);
        foreach ($cases as $c) {
            if ($c['kind'] === 'request') {
                $message = Protocol::messageToSign($c['method'], $c['canonical_url'], (int) $c['timestamp'], $c['nonce'], $c['body']);
                $path = substr($c['url'], strpos($c['url'], '/', strpos($c['url'], '://') + 3));
                self::assertSame($c['canonical_url'], Protocol::canonicalUrl($path), $c['name']);
            } else {
                $message = Protocol::messageToVerify($c['timestamp'], $c['nonce'], $c['body']);
            }
            self::assertSame($c['message'], $message, $c['name']);
            self::assertSame($c['len'], strlen($message), $c['name']);
            self::assertSame($c['sha256'], hash('sha256', $message), $c['name']);
        }
    }

    public function testAuthorization(): void
    {
        $v = self::vector('authorization.json');
        $key = self::vectorFile($v['private_key']);
        $signed = 0;
        foreach ($v['cases'] as $c) {
            if ($c['signature'] !== 'SIG') {
                $signer = new Signer(['mchid' => $c['mchid'], 'serial_no' => $c['serial_no'], 'private_key' => $key]);
                self::assertSame($c['signature'], $signer->sign($c['message']), $c['name']);
                $signed++;
            }
            $header = Protocol::authorizationHeader([
                'mchid' => $c['mchid'],
                'nonce_str' => $c['nonce'],
                'timestamp' => (int) $c['timestamp'],
                'serial_no' => $c['serial_no'],
                'signature' => $c['signature'],
            ]);
            self::assertSame($c['expected'], $header, $c['name']);
        }
        self::assertSame(1, $signed);
    }

    public function testSigning(): void
    {
        $v = self::vector('signing.json');
        $signers = [
            'PKCS#8' => new Signer(['mchid' => '1900000100', 'serial_no' => $v['serial_no'], 'private_key' => self::vectorFile($v['key_pkcs8'])]),
            // a path works as well as PEM text
            'PKCS#1' => new Signer(['mchid' => '1900000100', 'serial_no' => $v['serial_no'], 'private_key' => self::VECTORS . '/' . $v['key_pkcs1']]),
        ];
        $byKey = new Verifier(['public_key_id' => self::PK_ID, 'public_key' => self::vectorFile($v['public_key'])]);
        $byCert = new Verifier(['platform_certificates' => [self::vectorFile($v['certificate'])]]);
        self::assertNotEmpty($v['cases']);
        foreach ($v['cases'] as $c) {
            foreach ($signers as $format => $signer) {
                self::assertSame($c['signature'], $signer->sign($c['message']), "{$c['name']} $format");
            }
            // The verifiers see it as a response signed with that key, over the message's body.
            $now = 1700000000;
            $body = "{\"n\":\"{$c['name']}\"}";
            $signature = $signers['PKCS#8']->sign("$now\nnonce\n$body\n");
            foreach ([[$byKey, self::PK_ID], [$byCert, $v['serial_no']]] as [$verifier, $serial]) {
                $headers = ['Wechatpay-Timestamp' => (string) $now, 'Wechatpay-Nonce' => 'nonce', 'Wechatpay-Serial' => $serial, 'Wechatpay-Signature' => $signature];
                self::assertSame($serial, $verifier->verify($headers, $body, $now)['serial']);
                self::failure(fn () => $verifier->verify($headers, $body . ' ', $now), SignatureException::class, 'signature_invalid');
            }
            self::assertSame(base64_encode(base64_decode($c['signature'], true)), $c['signature']);
            self::assertSame(1, openssl_verify($c['message'], base64_decode($c['signature']), self::vectorFile($v['public_key']), OPENSSL_ALGO_SHA256), $c['name']);
        }
    }

    public function testAead(): void
    {
        $v = self::vector('aead.json');
        foreach ($v['cases'] as $c) {
            self::assertSame($c['plaintext'], Protocol::aeadDecrypt($v['key'], $c['associated_data'], $c['nonce'], $c['ciphertext']), $c['name']);
            self::assertSame($c['ciphertext'], Protocol::aeadEncrypt($v['key'], $c['associated_data'], $c['nonce'], $c['plaintext']), $c['name']);
        }
        self::assertNotEmpty($v['negative']);
        foreach ($v['negative'] as $c) {
            self::failure(
                fn () => Protocol::aeadDecrypt($c['key'] ?? $v['key'], $c['associated_data'], $c['nonce'], $c['ciphertext']),
                DecryptionException::class,
                $c['expect_error'],
            );
        }
    }

    public function testNotification(): void
    {
        $v = self::vector('notification.json');
        $verifier = new Verifier(['public_key_id' => $v['public_key_id'], 'public_key' => $v['public_key_pem']]);
        foreach ($v['cases'] as $c) {
            if ($c['kind'] === 'notification') {
                $n = $verifier->parseNotification($c['apiv3_key'] ?? $v['apiv3_key'], $c['headers'], $c['body'], $c['now']);
                foreach (['id', 'event_type', 'resource_type', 'summary', 'create_time', 'original_type', 'plaintext'] as $field) {
                    self::assertSame($c['expect'][$field], $n[$field], "{$c['name']}: $field");
                }
                self::assertEquals(json_decode($c['expect']['plaintext'], true), $n['resource'], $c['name']);
                // headers as [name, value] pairs work the same
                $pairs = array_map(null, array_keys($c['headers']), array_values($c['headers']));
                self::assertSame($n['id'], $verifier->parseNotification($c['apiv3_key'] ?? $v['apiv3_key'], $pairs, $c['body'], $c['now'])['id']);
            } else {
                self::assertSame($v['public_key_id'], $verifier->verify($c['headers'], $c['body'], $c['now'])['serial'], $c['name']);
            }
        }
        self::assertNotEmpty($v['negative']);
        foreach ($v['negative'] as $c) {
            $call = $c['kind'] === 'notification'
                ? fn () => $verifier->parseNotification($c['apiv3_key'] ?? $v['apiv3_key'], $c['headers'], $c['body'], $c['now'])
                : fn () => $verifier->verify($c['headers'], $c['body'], $c['now']);
            $e = self::failure($call, GoldPlanException::class, $c['expect_error']);
            self::assertSame($c['expect_error'] === 'decryption' ? 'decryption' : 'signature', $e->getFamily(), $c['name']);
        }
    }

    /**
     * payments.json (P1, the JSAPI pay-sign): Client::requestPayment on a sandbox client at the
     * vector's time and nonce gives the vector's four values and a paySign over exactly the
     * vector's message; with the merchant test key, the paySign is signing.json's P1.
     */
    public function testPayments(): void
    {
        $v = self::vector('payments.json');
        self::assertNotEmpty($v['cases']);
        self::assertNotEmpty($v['negative']);
        $signatures = array_column(self::vector('signing.json')['cases'], 'signature', 'name');
        $sandbox = new Sandbox('public_key');
        $client = Client::fromFile($sandbox->configPath);
        // Local: nothing is sent, so a client of the vector key needs no gateway.
        $vectorClient = new Client(self::vectorConfig('http://127.0.0.1:9'));
        foreach ($v['cases'] as $c) {
            $name = $c['name'];
            self::assertSame("prepay_id={$c['prepay_id']}", $c['package'], $name);
            self::assertSame($c['len'], \strlen($c['message']), $name);
            self::assertSame($c['sha256'], hash('sha256', $c['message']), $name);
            self::assertMatchesRegularExpression('/^\d{10}$/', $c['time_stamp'], $name);

            $pay = $client->requestPayment($c['app_id'], $c['prepay_id'], $c['nonce_str'], (int) $c['time_stamp']);
            self::assertSame(['appId', 'nonceStr', 'package', 'paySign', 'signType', 'timeStamp'], self::sortedKeys($pay), $name);
            self::assertSame($c['app_id'], $pay['appId'], $name);
            self::assertSame($c['time_stamp'], $pay['timeStamp'], "$name: timeStamp is a string of seconds");
            self::assertSame($c['nonce_str'], $pay['nonceStr'], $name);
            self::assertSame($c['package'], $pay['package'], $name);
            self::assertSame('RSA', $pay['signType'], $name);
            $message = "{$pay['appId']}\n{$pay['timeStamp']}\n{$pay['nonceStr']}\n{$pay['package']}\n";
            self::assertSame($c['message'], $message, $name);
            self::assertSame($c['sha256'], hash('sha256', $message), $name);
            foreach ($v['negative'] as $n) {
                self::assertNotSame($n['message'], $message, "$name vs {$n['name']}");
                self::assertNotSame($n['sha256'], hash('sha256', $message), "$name vs {$n['name']}");
            }
            // paySign is the sandbox merchant's key over that message (PHP's openssl checks it).
            self::assertSame(1, openssl_verify($message, base64_decode($pay['paySign'], true), $sandbox->config['certificate_pem'], OPENSSL_ALGO_SHA256), "$name: paySign");
            foreach ($v['negative'] as $n) {
                self::assertSame(0, openssl_verify($n['message'], base64_decode($pay['paySign'], true), $sandbox->config['certificate_pem'], OPENSSL_ALGO_SHA256), "$name: paySign over {$n['name']}");
            }

            // Signing is deterministic: with the merchant test key it is signing.json's case.
            self::assertArrayHasKey($name, $signatures, "signing.json has no $name");
            $fixed = $vectorClient->requestPayment($c['app_id'], $c['prepay_id'], $c['nonce_str'], (int) $c['time_stamp']);
            self::assertSame($signatures[$name], $fixed['paySign'], "$name: paySign under the merchant test key");
            self::assertSame(array_diff_key($pay, ['paySign' => 1]), array_diff_key($fixed, ['paySign' => 1]), $name);
        }
        self::assertSame([], $sandbox->admin('GET', '/requests'), 'requestPayment sends nothing');
    }

    /** @return list<string> */
    private static function sortedKeys(array $value): array
    {
        $keys = array_keys($value);
        sort($keys);
        return $keys;
    }

    public function testSensitive(): void
    {
        $v = self::vector('sensitive.json');
        $signer = new Signer(['mchid' => '1900000100', 'serial_no' => '3775B6A45ACD588826D15E583A95F5DD12345678', 'private_key' => self::vectorFile($v['private_key'])]);
        $verifier = new Verifier(['public_key_id' => self::PK_ID, 'public_key' => self::vectorFile($v['public_key'])]);
        foreach ($v['cases'] as $c) {
            $plain = $signer->decryptSensitive($c['ciphertext']);
            self::assertSame($c['plaintext'], $plain, $c['name']);
            self::assertSame($c['plaintext_len'], strlen($plain));
            $sealed = $verifier->encryptSensitive($c['plaintext']);
            self::assertSame(self::PK_ID, $sealed['wechatpay_serial']);
            self::assertNotSame($c['ciphertext'], $sealed['ciphertext'], 'OAEP is randomised');
            self::assertSame($c['plaintext'], $signer->decryptSensitive($sealed['ciphertext']), $c['name']);
        }
        self::failure(fn () => $verifier->encryptSensitive(str_repeat('a', $v['max_plaintext_len'] + 1)), GoldPlanException::class);
        self::assertSame(str_repeat('a', $v['max_plaintext_len']), $signer->decryptSensitive($verifier->encryptSensitive(str_repeat('a', $v['max_plaintext_len']))['ciphertext']));
    }

    public function testReceipt(): void
    {
        $v = self::vector('receipt.json');
        foreach ([...$v['cases'], ...$v['negative']] as $c) {
            $args = [$c['configured_link'], $c['sub_mch_id'], $c['out_trade_no'], $c['transaction_id']];
            self::assertSame($c['string_to_hash'], Protocol::checkCodeInput(...$args), $c['name']);
            self::assertSame($c['expected_check_code'], Protocol::expectedCheckCode(...$args), $c['name']);
            self::assertSame(md5($c['string_to_hash']), $c['expected_check_code']);
            self::assertSame($c['valid'], Protocol::verifyCheckCode(...[...$args, $c['check_code']]), $c['name']);
        }
        self::assertFalse($v['negative'][0]['valid']);
        foreach ($v['urls'] as $u) {
            $got = Protocol::parseReceiptQuery($u['url']);
            foreach (['sub_mch_id', 'out_trade_no', 'check_code'] as $param) {
                self::assertSame($u[$param]['raw'], $got[$param]['raw'], "{$u['name']}: $param");
                self::assertSame($u[$param]['decoded'], $got[$param]['decoded'], "{$u['name']}: $param");
            }
        }
    }

    /**
     * Receipt's former names are deprecated aliases of Protocol's helpers: the same results,
     * and PHP's notice "Method … is deprecated" (E_DEPRECATED from the extension, whose stub
     * says @deprecated; E_USER_DEPRECATED from the package).
     */
    public function testTheReceiptAliasesAreDeprecatedAndAnswerAlike(): void
    {
        $c = self::vector('receipt.json')['cases'][0];
        $u = self::vector('receipt.json')['urls'][0];
        $args = [$c['configured_link'], $c['sub_mch_id'], $c['out_trade_no'], $c['transaction_id']];
        $notices = [];
        set_error_handler(static function (int $level, string $message) use (&$notices): bool {
            $notices[] = [$level, $message];
            return true;
        }, \E_DEPRECATED | \E_USER_DEPRECATED);
        try {
            $checkCode = Receipt::checkCode(...$args);
            $valid = Receipt::verifyCheckCode(...[...$args, $c['check_code']]);
            $parsed = Receipt::parseUrl($u['url']);
        } finally {
            restore_error_handler();
        }
        self::assertSame(Protocol::expectedCheckCode(...$args), $checkCode);
        self::assertSame(Protocol::verifyCheckCode(...[...$args, $c['check_code']]), $valid);
        self::assertSame(Protocol::parseReceiptQuery($u['url']), $parsed);
        $level = \GOLDPLAN_TEST_DOOR === 'ext' ? \E_DEPRECATED : \E_USER_DEPRECATED;
        self::assertSame([
            [$level, 'Method GoldPlan\\Receipt::checkCode() is deprecated'],
            [$level, 'Method GoldPlan\\Receipt::verifyCheckCode() is deprecated'],
            [$level, 'Method GoldPlan\\Receipt::parseUrl() is deprecated'],
        ], $notices);
    }

    /**
     * Protocol::decryptCertificates over the download of certificates.json and its negative
     * cases; and a Verifier trusting the downloaded certificates verifies the download.
     */
    public function testCertificates(): void
    {
        $v = self::vector('certificates.json');
        $response = $v['response'];
        $got = Protocol::decryptCertificates($response['headers'], $response['body'], $v['apiv3_key'], $v['now']);
        self::assertSame([], $got['dropped']);
        self::assertSame($v['newest_serial'], $got['newest_serial']);
        self::assertCount(\count($v['expect']), $got['certificates']);
        $bySerial = array_column($got['certificates'], null, 'serial_no');
        foreach ($v['expect'] as $e) {
            $cert = $bySerial[$e['serial_no']];
            foreach (['not_before', 'not_after', 'not_before_unix', 'not_after_unix'] as $field) {
                self::assertSame($e[$field], $cert[$field], "{$e['serial_no']}: $field");
            }
            // The very certificate of the file (the core keeps the PEM without its final newline).
            self::assertSame(rtrim(self::vectorFile($e['certificate']), "\n"), $cert['pem']);
        }

        self::assertGreaterThanOrEqual(5, \count($v['negative']));
        foreach ($v['negative'] as $case) {
            $r = $case['response'];
            $trusted = array_map(fn (string $path) => self::vectorFile($path), $case['trusted_certificates'] ?? []);
            $call = fn () => Protocol::decryptCertificates($r['headers'], $r['body'], $v['apiv3_key'], $v['now'], $trusted);
            if ($case['expect_error'] === null) {
                $result = $call();
                self::assertSame($case['expect_serials'], array_column($result['certificates'], 'serial_no'), $case['name']);
                self::assertCount(1, $result['dropped'], $case['name']);
            } else {
                try {
                    $call();
                    self::fail("{$case['name']}: accepted");
                } catch (GoldPlanException $e) {
                    self::assertSame($case['expect_error'], $e->getKind(), "{$case['name']}: {$e->getMessage()}");
                }
            }
        }

        $pems = array_map(fn (array $e) => self::vectorFile($e['certificate']), $v['expect']);
        $verifier = new Verifier(['platform_certificates' => $pems]);
        $result = $verifier->verify($response['headers'], $response['body'], $v['now']);
        self::assertSame($response['headers']['Wechatpay-Serial'], $result['serial']);
        self::assertSame($response['headers']['Request-ID'], $result['request_id']);
        $bad = array_values(array_filter($v['negative'], fn (array $c) => $c['expect_error'] === 'signature_invalid'));
        self::assertCount(1, $bad);
        self::failure(fn () => $verifier->verify($bad[0]['response']['headers'], $bad[0]['response']['body'], $v['now']), SignatureException::class, 'signature_invalid');
    }
}
