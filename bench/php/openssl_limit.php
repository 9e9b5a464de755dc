<?php
/**
 * PHP's own RSA floor, for bench/cost.py to print beside the Rust one: openssl_sign (SHA-256,
 * RSA-2048, the sandbox's merchant key) and openssl_verify of the same message, in µs each,
 * through the OpenSSL that PHP links (the plain-PHP client's crypto).
 *
 *   php bench/php/openssl_limit.php --config sandbox.json [--iterations 2000]
 */

declare(strict_types=1);

$args = array_slice($argv, 1);
$config = $args[array_search('--config', $args, true) + 1] ?? null;
$at = array_search('--iterations', $args, true);
$iterations = $at === false ? 2000 : (int) $args[$at + 1];
if (!is_string($config) || $iterations < 1) {
    fwrite(STDERR, "usage: openssl_limit.php --config sandbox.json [--iterations N]\n");
    exit(2);
}
$json = json_decode((string) file_get_contents($config), true, 512, JSON_THROW_ON_ERROR);
$key = openssl_pkey_get_private($json['private_key_pem']);
$details = openssl_pkey_get_details($key);
$public = openssl_pkey_get_public($details['key']);
// The message the Rust limit signs (tests/e2e/examples/cost_client.rs).
$message = "1700000000\ncost-bench-nonce\n{\"sub_mchid\":\"1900000109\"}\n";
openssl_sign($message, $signature, $key, OPENSSL_ALGO_SHA256);

$started = hrtime(true);
for ($i = 0; $i < $iterations; $i++) {
    openssl_sign($message, $s, $key, OPENSSL_ALGO_SHA256);
}
$signUs = (hrtime(true) - $started) / 1e3 / $iterations;
$started = hrtime(true);
for ($i = 0; $i < $iterations * 10; $i++) {
    if (openssl_verify($message, $signature, $public, OPENSSL_ALGO_SHA256) !== 1) {
        fwrite(STDERR, "openssl_verify failed\n");
        exit(1);
    }
}
$verifyUs = (hrtime(true) - $started) / 1e3 / ($iterations * 10);
printf("{\"sign_us\":%.2f,\"verify_us\":%.2f}\n", $signUs, $verifyUs);
