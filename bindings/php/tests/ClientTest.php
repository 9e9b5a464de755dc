<?php

declare(strict_types=1);

namespace GoldPlan\Tests;

use GoldPlan\Client;
use GoldPlan\Exception\ApiException;
use GoldPlan\Tests\Support\Sandbox;
use GoldPlan\Tests\Support\TestCase;
use GoldPlan\Verifier;

/** Every Client operation against a sandbox, in each key mode. */
final class ClientTest extends TestCase
{
    /** @return array<string, array{string}> */
    public static function modes(): array
    {
        return ['certificate' => ['certificate'], 'public_key' => ['public_key'], 'combined' => ['combined']];
    }

    /** @dataProvider modes */
    public function testEveryOperation(string $mode): void
    {
        $sandbox = new Sandbox($mode);
        $sub = $sandbox->config['sub_mchids'][0];
        $client = Client::fromFile($sandbox->configPath);
        self::assertNull($client->lastRequestId());

        $probe = $client->probe();
        self::assertTrue($probe['ok'], json_encode($probe));

        if ($mode === 'public_key') {
            self::assertSame(['PUB_KEY_ID_'], [substr($sandbox->config['public_key_id'], 0, 11)]);
        } else {
            $certificates = $client->refreshCertificates()['certificates'];
            self::assertNotEmpty($certificates);
            self::assertStringContainsString('BEGIN CERTIFICATE', $certificates[0]['pem']);
            self::assertSame(
                array_column($sandbox->config['platform_certificates'], 'serial_no'),
                array_column($certificates, 'serial_no'),
            );
        }

        // The receipt (商家小票) needs the provider's receipt link first.
        $sandbox->admin('PATCH', '/merchants/' . $sandbox->config['mchid'], ['receipt_link' => 'https://shop.example.com/receipt']);

        self::assertSame($sub, $client->changeGoldPlanStatus($sub, 'OPEN', 'JSAPI')['sub_mchid']);
        $first = $client->lastRequestId();
        self::assertMatchesRegularExpression('/^[0-9A-F]{16,}$/', (string) $first);
        self::assertSame($sub, $client->changeGoldPlanStatus($sub, 'OPEN')['sub_mchid']);
        self::assertNotSame($first, $client->lastRequestId(), 'each call has its Request-ID');
        self::assertSame($sub, $client->changeCustomPageStatus($sub, 'OPEN')['sub_mchid']);
        self::assertSame([], $client->setAdvertisingIndustryFilter($sub, ['SOFTWARE', 'POTOGRAPHY']));
        self::assertSame([], $client->openAdvertisingShow($sub));
        self::assertSame([], $client->openAdvertisingShow($sub, ['SOFTWARE']));
        self::assertSame([], $client->closeAdvertisingShow($sub));

        // Named arguments are the wire names in camelCase. Enum values go to the core as given,
        // which takes any case and sends WeChat Pay's spelling; a list goes whatever its keys.
        self::assertSame([], $client->setAdvertisingIndustryFilter(subMchid: $sub, advertisingIndustryFilters: ['first' => 'food', 'second' => 'Sport']));
        self::assertSame($sub, $client->changeCustomPageStatus(operationType: 'close', subMchid: $sub)['sub_mchid']);
        $state = $sandbox->admin('GET', '/merchants/' . $sandbox->config['mchid'] . '/sub-merchants/' . $sub);
        self::assertSame(['FOOD', 'SPORT'], $state['advertising_industry_filters'] ?? null, json_encode($state));
        self::assertSame('CLOSE', $state['custom_page'] ?? null, json_encode($state));

        $png = "\x89PNG\r\n\x1a\n" . random_bytes(64);
        $mediaId = $client->uploadImage('logo.png', $png)['media_id'];
        self::assertNotSame('', $mediaId);
        $stored = $sandbox->admin('GET', '/media/' . rawurlencode($mediaId));
        self::assertSame('logo.png', $stored['filename'] ?? null, json_encode($stored));

        $path = '/v3/goldplan/merchants/close-advertising-show';
        foreach ([['sub_mchid' => $sub], json_encode(['sub_mchid' => $sub])] as $body) {
            $r = $client->request('POST', $path, $body);
            self::assertSame(2, intdiv($r['status'], 100), json_encode($r));
            self::assertSame($r['request_id'], $client->lastRequestId());
            self::assertIsArray($r['headers']);
        }
        $r = $client->request('POST', '/v3/goldplan/merchants/changegoldplanstatus', ['sub_mchid' => $sub, 'operation_type' => 'OPEN'], $mode === 'public_key' ? $sandbox->config['public_key_id'] : null);
        self::assertSame($sub, $r['body']['sub_mchid']);

        // An API error carries HTTP status, WeChat's code and the Request-ID.
        $e = self::failure(fn () => $client->changeGoldPlanStatus('1234567890', 'OPEN'), ApiException::class, 'api');
        self::assertGreaterThanOrEqual(400, $e->getStatus());
        self::assertIsString($e->getCode());
        self::assertNotSame('', $e->getCode());
        self::assertNotNull($e->getRequestId());
        self::assertSame('api', $e->getFamily());

        // Sensitive fields: to WeChat Pay's key; from the merchant's.
        $sealed = $client->encryptSensitive('张三');
        self::assertGreaterThan(300, strlen($sealed['ciphertext']));
        if ($mode !== 'certificate') {
            // combined mode prefers the public key too
            self::assertSame($sandbox->config['public_key_id'], $sealed['wechatpay_serial']);
        } else {
            self::assertContains($sealed['wechatpay_serial'], array_column($sandbox->config['platform_certificates'], 'serial_no'));
        }
        $toMerchant = new Verifier(['platform_certificates' => [$sandbox->config['certificate_pem']]]);
        self::assertSame('13800138000', $client->decryptSensitive($toMerchant->encryptSensitive('13800138000')['ciphertext']));

        // The same from an array configuration, with the core's names.
        $fromArray = self::client($sandbox, ['timeout' => 10]);
        self::assertSame([], $fromArray->closeAdvertisingShow($sub));
        self::assertNotNull($fromArray->lastRequestId());
    }

    public function testOneClientServesManyCalls(): void
    {
        $sandbox = new Sandbox('public_key');
        $client = Client::fromFile($sandbox->configPath);
        $sub = $sandbox->config['sub_mchids'][0];
        $client->changeGoldPlanStatus($sub, 'OPEN');
        $ids = [];
        for ($i = 0; $i < 200; $i++) {
            $client->closeAdvertisingShow($sub);
            $ids[$client->lastRequestId()] = true;
        }
        self::assertCount(200, $ids);
    }
}
