<?php

// Run by PHP-FPM in tests/fpm.sh: one Gold Plan call through the preloaded FFI scope, as an
// application would make it (it loads the package's autoloader first, as vendor/autoload.php).

declare(strict_types=1);

require dirname(__DIR__, 2) . '/autoload.php';

header('Content-Type: application/json');
$out = [
    'pid' => getmypid(),
    'sapi' => PHP_SAPI,
    'ffi_enable' => ini_get('ffi.enable'),
    'package_class' => (new ReflectionClass(GoldPlan\Client::class))->getExtensionName() === false,
    // This script is not preloaded: PHP must refuse it the FFI API, so the package's calls
    // below can only work through the preloaded scope.
    'cdef_refused' => (static function (): bool {
        try {
            FFI::cdef('int abs(int);');
            return false;
        } catch (FFI\Exception) {
            return true;
        }
    })(),
    'preloaded' => in_array('GoldPlan\Internal\Native', opcache_get_status(false)['preload_statistics']['classes'] ?? [], true),
];
try {
    $client = GoldPlan\Client::fromFile((string) ($_SERVER['GOLDPLAN_SANDBOX_JSON'] ?? ''));
    $sub = (string) ($_SERVER['GOLDPLAN_SUB_MCHID'] ?? '');
    $result = $client->changeGoldPlanStatus($sub, 'OPEN');
    $out += ['ok' => ($result['sub_mchid'] ?? null) === $sub, 'request_id' => $client->lastRequestId(), 'version' => GoldPlan\version()];
    $out['replay_guard'] = replay_guard_works();
} catch (Throwable $e) {
    http_response_code(500);
    $out += ['ok' => false, 'error' => get_class($e) . ': ' . $e->getMessage()];
}
echo json_encode($out), "\n";

/**
 * The replay guard is a PHP closure the library calls back through FFI: under
 * ffi.enable=preload too. A callback signed and sealed here with the vector keys, whose id the
 * guard reports as processed, must be a ReplayException.
 */
function replay_guard_works(): bool
{
    $keys = dirname(__DIR__, 4) . '/tests/vectors/keys';
    $apiv3 = '0123456789abcdefghijklmnopqrstuv';
    $nonce = 'fpm-replay12';
    $ciphertext = openssl_encrypt('{"out_trade_no":"FPM-1"}', 'aes-256-gcm', $apiv3, OPENSSL_RAW_DATA, $nonce, $tag, 'transaction');
    $body = json_encode(['id' => 'EV-fpm-1', 'create_time' => '2024-01-01T10:00:00+08:00', 'resource_type' => 'encrypt-resource',
        'event_type' => 'TRANSACTION.SUCCESS', 'summary' => 'ok', 'resource' => ['original_type' => 'transaction',
        'algorithm' => 'AEAD_AES_256_GCM', 'ciphertext' => base64_encode($ciphertext . $tag), 'associated_data' => 'transaction', 'nonce' => $nonce]]);
    $timestamp = time();
    openssl_sign("$timestamp\nfpm-nonce\n$body\n", $signature, (string) file_get_contents("$keys/wechatpay_test_pubkey_key.pem"), OPENSSL_ALGO_SHA256);
    $keyId = 'PUB_KEY_ID_0114232134912410000000000000000001';
    $headers = ['Wechatpay-Timestamp' => (string) $timestamp, 'Wechatpay-Nonce' => 'fpm-nonce', 'Wechatpay-Serial' => $keyId,
        'Wechatpay-Signature' => base64_encode($signature)];
    $verifier = new GoldPlan\Verifier(['public_key_id' => $keyId, 'public_key' => "$keys/wechatpay_test_pubkey.pem"]);
    $asked = [];
    $guard = function (string $id) use (&$asked): bool {
        $asked[] = $id;
        return $id === 'EV-fpm-1';
    };
    try {
        $verifier->parseNotification($apiv3, $headers, $body, 0, 0, $guard);
        return false;
    } catch (GoldPlan\Exception\ReplayException) {
        return $asked === ['EV-fpm-1'];
    }
}
