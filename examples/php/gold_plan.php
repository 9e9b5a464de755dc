<?php
// The Gold Plan scenario in PHP against a sandbox (no WeChat Pay account needed):
//
//     goldplan-sandbox --port 0 --state-dir state --mode combined &
//     php examples/php/gold_plan.php state/sandbox.json
//
// A service provider opens Gold Plan for a special merchant, turns on the merchant receipt,
// sets the industry filter, opens ad display, encrypts a sensitive field, and checks a
// receipt page's check_code. With real credentials, replace Client::fromFile() by
// new Client(['mchid' => …, 'serial_no' => …, 'private_key' => 'apiclient_key.pem',
// 'apiv3_key' => …, 'public_key_id' => 'PUB_KEY_ID_…', 'public_key' => 'pub_key.pem']).
declare(strict_types=1);

require __DIR__ . '/../../bindings/php/autoload.php';

use GoldPlan\Client;
use GoldPlan\Exception\GoldPlanException;
use GoldPlan\Exception\InvalidInputException;
use GoldPlan\Protocol;

if ($argc < 2) {
    fwrite(STDERR, "usage: php gold_plan.php path/to/sandbox.json\n");
    exit(2);
}
$configPath = $argv[1];
$config = json_decode((string) file_get_contents($configPath), true, 512, JSON_THROW_ON_ERROR);
$subMchid = $config['sub_mchids'][0] ?? '1900000109';
$receiptLink = 'https://provider.example/receipt';

// A sandbox only: the provider's receipt link is configured in the merchant portal for real.
if (isset($config['admin_url'])) {
    file_get_contents($config['admin_url'] . '/merchants/' . $config['mchid'], false, stream_context_create(['http' => [
        'method' => 'PATCH',
        'header' => "Content-Type: application/json\r\n",
        'content' => json_encode(['receipt_link' => $receiptLink]),
    ]]));
}

try {
    $client = Client::fromFile($configPath);
    print_r($client); // nothing secret in it

    $probe = $client->probe();
    printf("probe: %s\n", $probe['ok'] ? 'ok' : json_encode($probe));

    $reply = $client->changeGoldPlanStatus($subMchid, 'OPEN', 'JSAPI_AND_MINIPROGRAM');
    printf("Gold Plan opened for %s (Request-ID %s)\n", $reply['sub_mchid'], $client->lastRequestId());
    $client->changeCustomPageStatus($subMchid, 'OPEN');
    printf("merchant receipt opened\n");
    $client->setAdvertisingIndustryFilter($subMchid, ['SOFTWARE', 'LOVE_MARRIAGE']);
    printf("industry filter set\n");
    $client->openAdvertisingShow($subMchid);
    printf("advertising show opened\n");

    try {
        $client->setAdvertisingIndustryFilter($subMchid, ['FOOD', 'FOOD', 'FOOD', 'FOOD']);
    } catch (InvalidInputException $e) {
        printf("refused before sending: %s\n", $e->getMessage());
    }

    $sealed = $client->encryptSensitive('张三');
    printf("sensitive field encrypted for %s (%d base64 characters)\n", $sealed['wechatpay_serial'], strlen($sealed['ciphertext']));

    $mediaId = $client->uploadImage('logo.png', "\x89PNG\r\n\x1a\n" . str_repeat("\0", 16))['media_id'];
    printf("image uploaded: %s\n", $mediaId);

    // The receipt page WeChat opens carries a check_code: recompute and compare it.
    $checkCode = Protocol::expectedCheckCode($receiptLink, $subMchid, 'ORDER-1001', '4200000000000000001');
    $valid = Protocol::verifyCheckCode($receiptLink, $subMchid, 'ORDER-1001', '4200000000000000001', $checkCode);
    printf("receipt check_code %s valid: %s\n", $checkCode, $valid ? 'yes' : 'no');

    $client->closeAdvertisingShow($subMchid);
    printf("advertising show closed\n");
} catch (GoldPlanException $e) {
    fprintf(STDERR, "%s (%s, Request-ID %s): %s\n", get_class($e), $e->getKind(), $e->getRequestId() ?? '-', $e->getMessage());
    exit(1);
}
