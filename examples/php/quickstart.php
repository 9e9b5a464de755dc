<?php
// The README's PHP quick start: open Gold Plan for a special merchant, and read an error.
// Run: php quickstart.php goldplan-sandbox-state/sandbox.json [sub_mchid]
declare(strict_types=1);

// With extension=goldplan.so this loader steps aside; in an application: vendor/autoload.php.
require __DIR__ . '/../../bindings/php/autoload.php';

use GoldPlan\Client;
use GoldPlan\Exception\ApiException;

$client = Client::fromFile($argv[1] ?? 'goldplan-sandbox-state/sandbox.json');
$subMchid = $argv[2] ?? '1900000109';

$result = $client->changeGoldPlanStatus($subMchid, 'OPEN', 'JSAPI');
printf("Gold Plan opened for %s (Request-ID %s)\n", $result['sub_mchid'], $client->lastRequestId());

try {
    $client->changeGoldPlanStatus('1234567890', 'OPEN');
} catch (ApiException $e) {
    // WeChat Pay refused: HTTP status, WeChat's code (getCode()), message, Request-ID
    printf("refused: HTTP %d %s: %s [%s]\n", $e->getStatus(), $e->getCode(), $e->getMessage(), $e->getRequestId());
}
