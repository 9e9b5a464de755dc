<?php
/**
 * A minimal plain-PHP WeChat Pay APIv3 client, done the way the official PHP SDK
 * (wechatpay/wechatpay, over Guzzle) does it, so that bench/php/cost_php.php can measure
 * goldplan's PHP doors against what a PHP shop runs today. Its fidelity (what it does like the
 * official SDK, what it leaves out) is described in bench/README.md.
 *
 * Public-key mode only: responses are verified against the WeChat Pay public key.
 */

declare(strict_types=1);

namespace GoldPlanBench;

final class PlainClient
{
    /** The official SDK's MAXIMUM_CLOCK_OFFSET. */
    private const MAX_SKEW_SECS = 300;
    private const NONCE_CHARS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

    private string $mchid;
    private string $serialNo;
    private string $baseUrl;
    private string $publicKeyId;
    /** Parsed once per process, as an application holds its Rsa::from(...) key. */
    private \OpenSSLAsymmetricKey $privateKey;
    private \OpenSSLAsymmetricKey $publicKey;
    /** One handle for the process: curl keeps its connection alive between calls. */
    private \CurlHandle $curl;
    /** @var array<string, string> response headers of the call in progress, lower-case names */
    private array $headers = [];

    /** @param array<string, mixed> $config a sandbox.json (mchid, serial_no, private_key_pem, public_key_id, public_key_pem, base_url) */
    public function __construct(array $config)
    {
        foreach (['mchid', 'serial_no', 'private_key_pem', 'public_key_id', 'public_key_pem', 'base_url'] as $k) {
            if (!isset($config[$k]) || !is_string($config[$k])) {
                throw new \InvalidArgumentException("plain client: configuration needs $k");
            }
        }
        $this->mchid = $config['mchid'];
        $this->serialNo = $config['serial_no'];
        $this->baseUrl = rtrim($config['base_url'], '/');
        $this->publicKeyId = $config['public_key_id'];
        $key = openssl_pkey_get_private($config['private_key_pem']);
        $pub = openssl_pkey_get_public($config['public_key_pem']);
        if ($key === false || $pub === false) {
            throw new \InvalidArgumentException('plain client: unreadable key');
        }
        $this->privateKey = $key;
        $this->publicKey = $pub;
        $this->curl = curl_init();
        curl_setopt_array($this->curl, [
            CURLOPT_RETURNTRANSFER => true,
            CURLOPT_TIMEOUT => 30,
            CURLOPT_HEADERFUNCTION => function ($ch, string $line): int {
                $colon = strpos($line, ':');
                if ($colon !== false) {
                    $this->headers[strtolower(substr($line, 0, $colon))] = trim(substr($line, $colon + 1));
                }
                return strlen($line);
            },
        ]);
    }

    /** POST /v3/goldplan/merchants/changegoldplanstatus; returns the decoded, verified body. */
    public function changeGoldPlanStatus(string $subMchid, string $operationType): array
    {
        $body = json_encode(['sub_mchid' => $subMchid, 'operation_type' => $operationType], JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE);
        return $this->post('/v3/goldplan/merchants/changegoldplanstatus', $body);
    }

    /** @return array<mixed> */
    private function post(string $path, string $body): array
    {
        $timestamp = time();
        $nonce = self::nonce();
        // Formatter::request: method, canonical URL, timestamp, nonce, body, one line each.
        $message = "POST\n$path\n$timestamp\n$nonce\n$body\n";
        if (!openssl_sign($message, $signature, $this->privateKey, OPENSSL_ALGO_SHA256)) {
            throw new \RuntimeException('plain client: openssl_sign failed');
        }
        $authorization = sprintf(
            'WECHATPAY2-SHA256-RSA2048 mchid="%s",nonce_str="%s",signature="%s",timestamp="%d",serial_no="%s"',
            $this->mchid, $nonce, base64_encode($signature), $timestamp, $this->serialNo
        );
        $this->headers = [];
        curl_setopt_array($this->curl, [
            CURLOPT_URL => $this->baseUrl . $path,
            CURLOPT_POST => true,
            CURLOPT_POSTFIELDS => $body,
            CURLOPT_HTTPHEADER => [
                'Accept: application/json, text/plain, application/x-gzip',
                'Content-Type: application/json; charset=utf-8',
                'User-Agent: goldplan-bench-plain-php/1 curl/' . curl_version()['version'] . ' (PHP ' . PHP_VERSION . ')',
                'Authorization: ' . $authorization,
                'Expect:',
            ],
        ]);
        $raw = curl_exec($this->curl);
        if ($raw === false) {
            throw new \RuntimeException('plain client: transport: ' . curl_error($this->curl));
        }
        $status = curl_getinfo($this->curl, CURLINFO_RESPONSE_CODE);
        $this->verify((string) $raw);
        if ($status < 200 || $status >= 300) {
            throw new \RuntimeException("plain client: HTTP $status");
        }
        return $raw === '' ? [] : json_decode((string) $raw, true, 512, JSON_THROW_ON_ERROR);
    }

    /** The official SDK's verifier middleware: headers present, clock skew, key id, signature. */
    private function verify(string $body): void
    {
        foreach (['wechatpay-timestamp', 'wechatpay-nonce', 'wechatpay-signature', 'wechatpay-serial'] as $h) {
            if (!isset($this->headers[$h])) {
                throw new \RuntimeException("plain client: response without $h");
            }
        }
        $timestamp = $this->headers['wechatpay-timestamp'];
        if (!ctype_digit($timestamp) || abs(time() - (int) $timestamp) > self::MAX_SKEW_SECS) {
            throw new \RuntimeException('plain client: response timestamp outside the allowed skew');
        }
        if ($this->headers['wechatpay-serial'] !== $this->publicKeyId) {
            throw new \RuntimeException('plain client: response signed by an unknown key');
        }
        $message = $timestamp . "\n" . $this->headers['wechatpay-nonce'] . "\n" . $body . "\n";
        $signature = base64_decode($this->headers['wechatpay-signature'], true);
        if ($signature === false || openssl_verify($message, $signature, $this->publicKey, OPENSSL_ALGO_SHA256) !== 1) {
            throw new \RuntimeException('plain client: response signature does not verify');
        }
    }

    /** 32 characters of [0-9A-Za-z], like Formatter::nonce (which draws them with rand()). */
    private static function nonce(): string
    {
        $bytes = random_bytes(32);
        $nonce = '';
        for ($i = 0; $i < 32; $i++) {
            $nonce .= self::NONCE_CHARS[ord($bytes[$i]) % 62];
        }
        return $nonce;
    }
}
