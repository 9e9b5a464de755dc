<?php
// A WeChat Pay callback endpoint (notify_url) for PHP's built-in server or any SAPI:
//
//     GOLDPLAN_CONFIG=state/sandbox.json php -S 127.0.0.1:8080 examples/php/callback.php
//
// It verifies and decrypts the raw body exactly as received (never $_POST or a re-encoded
// json_decode), answers 204 when the notification is authentic, and 4xx with WeChat Pay's
// {"code": "FAIL", "message": …} body otherwise, which makes WeChat Pay deliver it again.
// WeChat Pay delivers a callback again until it gets a success answer, so one id can arrive
// twice: a replay guard refuses the ids already processed, and those are answered 204 too.
declare(strict_types=1);

require __DIR__ . '/../../bindings/php/autoload.php';

use GoldPlan\Client;
use GoldPlan\Exception\GoldPlanException;
use GoldPlan\Exception\ReplayException;
use GoldPlan\Exception\SignatureException;

const MAX_BODY = 1024 * 1024; // WeChat Pay callbacks are a few kilobytes

function answer(int $status, ?string $reason = null): void
{
    http_response_code($status);
    if ($reason !== null) {
        header('Content-Type: application/json');
        // WeChat Pay reads only the status; the message is for people (at most 64 characters,
        // ASCII here: a family and a kind).
        echo json_encode(['code' => 'FAIL', 'message' => substr($reason, 0, 64)], JSON_UNESCAPED_UNICODE);
    }
}

if (($_SERVER['REQUEST_METHOD'] ?? '') !== 'POST') {
    header('Allow: POST');
    answer(405, 'POST only');
    return;
}
if ((int) ($_SERVER['CONTENT_LENGTH'] ?? 0) > MAX_BODY) {
    answer(413, 'body too large');
    return;
}
$rawBody = (string) file_get_contents('php://input');
$headers = function_exists('getallheaders') ? getallheaders() : [];
if ($headers === []) {
    // SAPIs without getallheaders(): rebuild the names from $_SERVER's HTTP_* keys.
    foreach ($_SERVER as $name => $value) {
        if (is_string($value) && str_starts_with((string) $name, 'HTTP_')) {
            $headers[str_replace('_', '-', substr((string) $name, 5))] = $value;
        }
    }
}

// The ids of callbacks processed to completion, one empty file each (an application keeps them
// in its database, with a unique key on the id).
$processed = getenv('GOLDPLAN_PROCESSED_DIR') ?: sys_get_temp_dir() . '/goldplan-callbacks';
$marker = fn (string $id): string => $processed . '/' . hash('sha256', $id);

try {
    // In an application the client comes from your container, created once per worker.
    $client = Client::fromFile((string) getenv('GOLDPLAN_CONFIG'));
    // The guard is asked only about authentic callbacks: "was this id processed already?"
    $notification = $client->parseNotification($headers, $rawBody, fn (string $id): bool => is_file($marker($id)));
    $resource = $notification['resource'];
    // Process the payment here; record the id only once that succeeded, then acknowledge.
    error_log(sprintf('callback %s %s: %s', $notification['id'], $notification['event_type'], $resource['out_trade_no'] ?? '?'));
    if (!is_dir($processed)) {
        mkdir($processed, 0700, true);
    }
    touch($marker($notification['id']));
    answer(204);
} catch (ReplayException $e) {
    // Handled before: tell WeChat Pay so, or it keeps delivering it.
    error_log('callback already processed: ' . $e->getMessage());
    answer(204);
} catch (SignatureException $e) {
    error_log('callback refused: ' . $e->getKind());
    answer(401, 'signature: ' . $e->getKind());
} catch (GoldPlanException $e) {
    error_log('callback refused: ' . $e->getKind());
    answer(400, $e->getFamily() . ': ' . $e->getKind());
}
