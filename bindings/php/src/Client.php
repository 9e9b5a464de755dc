<?php

declare(strict_types=1);

namespace GoldPlan;

use FFI\CData;
use GoldPlan\Internal\Failure;
use GoldPlan\Internal\Headers;
use GoldPlan\Internal\Json;
use GoldPlan\Internal\Native;

/**
 * A WeChat Pay APIv3 client for one merchant. Create it once per process (per PHP-FPM
 * worker) and reuse it: it keeps connections and the platform certificates.
 */
final class Client
{
    use Internal\Opaque;

    private ?CData $handle = null;
    private ?string $mchid = null;
    private ?string $lastRequestId = null;

    /**
     * $config uses the core's configuration names: mchid, serial_no,
     *        private_key (PEM text or a path), apiv3_key, mode ("certificate", "public_key",
     *        "combined"), public_key_id, public_key, base_url, timeout_secs, …
     */
    public function __construct(#[\SensitiveParameter] array $config)
    {
        if ($this->handle !== null) {
            // A second call would leak the first handle; the extension refuses it alike.
            throw new \Error('GoldPlan\\Client is already initialised');
        }
        $json = Json::encode($config, 'the configuration');
        $this->handle = Native::handleFromSecretJson('goldplan_client', 'goldplan_client_new', $json);
        $this->mchid = \is_string($config['mchid'] ?? null) ? $config['mchid'] : null;
    }

    /** A client from a JSON configuration file (a sandbox's sandbox.json works as is). */
    public static function fromFile(string $path): Client
    {
        $client = (new \ReflectionClass(self::class))->newInstanceWithoutConstructor();
        $client->handle = Native::handle('goldplan_client', 'goldplan_client_new_from_file', $path, \strlen($path));
        return $client;
    }

    /** POST /v3/goldplan/merchants/changegoldplanstatus. */
    public function changeGoldPlanStatus(string $subMchid, string $operationType, ?string $operationPayScene = null): array
    {
        $args = ['sub_mchid' => $subMchid, 'operation_type' => $operationType];
        if ($operationPayScene !== null) {
            $args['operation_pay_scene'] = $operationPayScene;
        }
        return $this->call('change_gold_plan_status', $args);
    }

    /** POST /v3/goldplan/merchants/changecustompagestatus. */
    public function changeCustomPageStatus(string $subMchid, string $operationType): array
    {
        return $this->call('change_custom_page_status', ['sub_mchid' => $subMchid, 'operation_type' => $operationType]);
    }

    /** POST /v3/goldplan/merchants/set-advertising-industry-filter (returns []). */
    public function setAdvertisingIndustryFilter(string $subMchid, array $advertisingIndustryFilters): array
    {
        return $this->call('set_advertising_industry_filter', [
            'sub_mchid' => $subMchid,
            // a JSON list whatever the PHP keys are, as the extension sends it
            'advertising_industry_filters' => array_values($advertisingIndustryFilters),
        ]);
    }

    /** POST /v3/goldplan/merchants/open-advertising-show (returns []). */
    public function openAdvertisingShow(string $subMchid, ?array $advertisingIndustryFilters = null): array
    {
        $args = ['sub_mchid' => $subMchid];
        if ($advertisingIndustryFilters !== null) {
            $args['advertising_industry_filters'] = array_values($advertisingIndustryFilters);
        }
        return $this->call('open_advertising_show', $args);
    }

    /** POST /v3/goldplan/merchants/close-advertising-show (returns []). */
    public function closeAdvertisingShow(string $subMchid): array
    {
        return $this->call('close_advertising_show', ['sub_mchid' => $subMchid]);
    }

    /** POST /v3/merchant/media/upload: returns ["media_id" => …]. */
    public function uploadImage(string $filename, string $content): array
    {
        return $this->call('upload_image', ['filename' => $filename, 'content_base64' => base64_encode($content)]);
    }

    /**
     * Any APIv3 call, signed and verified: returns status, request_id, serial, headers and
     * body (decoded JSON, or the text when it is not JSON). $body is an array sent as JSON,
     * or a string sent as is.
     */
    public function request(string $method, string $path, array|string|null $body = null, ?string $wechatpaySerial = null): array
    {
        $args = ['method' => $method, 'path' => $path];
        if (\is_array($body)) {
            // [] is PHP's empty object as much as its empty list; a request body is an object.
            $args['body'] = $body === [] ? new \stdClass() : $body;
        } elseif (\is_string($body)) {
            $args['body_text'] = $body;
        }
        if ($wechatpaySerial !== null) {
            $args['wechatpay_serial'] = $wechatpaySerial;
        }
        return $this->call('request', $args);
    }

    /**
     * Verifies and decrypts a callback from its headers and the raw body exactly as
     * received (file_get_contents('php://input')): id, create_time, event_type,
     * resource_type, summary, plaintext and resource (the plaintext decoded, or null).
     * $headers: name => value (or a list of values), or a list of [name, value] pairs.
     */
    public function parseNotification(array $headers, string $rawBody): array
    {
        $json = Headers::json($headers);
        return Native::response('goldplan_client_parse_notification', $this->handle(), $json, \strlen($json), $rawBody, \strlen($rawBody))[0];
    }

    /** RSA-OAEP for WeChat Pay: ["ciphertext" => …, "wechatpay_serial" => …]. */
    public function encryptSensitive(#[\SensitiveParameter] string $plaintext): array
    {
        return Native::response('goldplan_client_encrypt_sensitive', $this->handle(), $plaintext, \strlen($plaintext))[0];
    }

    /** Decrypts a sensitive field of a response with the merchant private key. */
    public function decryptSensitive(string $ciphertext): string
    {
        return Native::string('goldplan_client_decrypt_sensitive', $this->handle(), $ciphertext, \strlen($ciphertext));
    }

    /** Downloads the platform certificates now: ["certificates" => [[serial_no, not_before, not_after, pem], …]]. */
    public function refreshCertificates(): array
    {
        return $this->remember(Native::response('goldplan_client_refresh_certificates', $this->handle()));
    }

    /** One signed request that reports whether this configuration works at the gateway. */
    public function probe(): array
    {
        return $this->remember(Native::response('goldplan_client_probe', $this->handle()));
    }

    /** The Request-ID of this client's last successful call, or null. */
    public function lastRequestId(): ?string
    {
        return $this->lastRequestId;
    }

    /** Nothing secret: the merchant number and the last Request-ID. */
    public function __debugInfo(): array
    {
        return ['mchid' => $this->mchid, 'lastRequestId' => $this->lastRequestId];
    }

    public function __destruct()
    {
        if ($this->handle !== null) {
            Native::free('goldplan_client_free', $this->handle);
            $this->handle = null;
        }
    }

    /** @param array<string, mixed> $args */
    private function call(string $operation, array $args): array
    {
        $json = Json::encode($args, "the arguments of $operation");
        return $this->remember(Native::response('goldplan_client_call', $this->handle(), $operation, \strlen($operation), $json, \strlen($json)));
    }

    /** @param array{0: array<mixed>, 1: ?string} $response */
    private function remember(array $response): array
    {
        $this->lastRequestId = $response[1];
        return $response[0];
    }

    private function handle(): CData
    {
        return $this->handle ?? throw Failure::of('invalid_input', 'invalid_input', 'this GoldPlan\Client was not constructed');
    }
}
