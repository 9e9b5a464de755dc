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
} catch (Throwable $e) {
    http_response_code(500);
    $out += ['ok' => false, 'error' => get_class($e) . ': ' . $e->getMessage()];
}
echo json_encode($out), "\n";
