<?php

declare(strict_types=1);

namespace GoldPlan\Tests;

use GoldPlan\Client;
use GoldPlan\Exception\ApiException;
use GoldPlan\Exception\GoldPlanException;
use GoldPlan\Exception\InvalidInputException;
use GoldPlan\Tests\Support\Sandbox;
use GoldPlan\Tests\Support\TestCase;

/**
 * A partner JSAPI payment end to end against the sandbox, in each key mode: prepay, the
 * front-end pay-sign, the payer pays with those six values (the sandbox checks paySign like the
 * WeChat client), the TRANSACTION.SUCCESS notification reaches a listener on 127.0.0.1 and goes
 * through Client::parseNotification, then both queries, close and the refusals.
 *
 * The listener is a stream_socket_server in this process: the kernel queues the sandbox's
 * connection until the test accepts it, so one thread is enough (the sandbox waits up to
 * callback_timeout_ms, 5 s, for the answer and retries after that).
 */
final class PaymentsTest extends TestCase
{
    private const SP_APPID = 'wx8888888888888888';
    private const SUB_APPID = 'wxd678efh567hg6999';
    private const SUB_OPENID = 'oSubTest0123456789abcdefABCD';
    private const SP_OPENID = 'oSpTest0123456789abcdefABCDE';

    /** @return array<string, array{string}> */
    public static function modes(): array
    {
        return ['certificate' => ['certificate'], 'public_key' => ['public_key'], 'combined' => ['combined']];
    }

    /** @dataProvider modes */
    public function testAJsapiPaymentFromPrepayToNotification(string $mode): void
    {
        $sandbox = new Sandbox($mode);
        $client = Client::fromFile($sandbox->configPath);
        $mchid = $sandbox->config['mchid'];
        // The defaults every binding's sandbox documents.
        self::assertSame('1900000100', $mchid);
        self::assertSame(self::SP_APPID, $sandbox->config['sp_appid']);
        self::assertSame([['sub_mchid' => self::SUB, 'sub_appid' => self::SUB_APPID, 'jsapi' => true]], $sandbox->config['sub_merchants']);
        self::assertSame([['sp_openid' => self::SP_OPENID, 'sub_openid' => self::SUB_OPENID]], $sandbox->config['users']);

        $server = stream_socket_server('tcp://127.0.0.1:0', $errno, $errstr);
        self::assertIsResource($server, "listen: $errstr");
        try {
            $port = (int) substr(strrchr((string) stream_socket_get_name($server, false), ':'), 1);
            self::assertGreaterThan(0, $port);
            $this->pay($sandbox, $client, $server, "http://127.0.0.1:$port/notify");
        } finally {
            fclose($server);
        }
    }

    /** @param resource $server */
    private function pay(Sandbox $sandbox, Client $client, $server, string $notifyUrl): void
    {
        $mchid = $sandbox->config['mchid'];
        $outTradeNo = 'PHP' . date('YmdHis') . '_' . bin2hex(random_bytes(5));
        self::assertLessThanOrEqual(32, \strlen($outTradeNo));
        $total = 1234;

        // 1. Prepay: the payer is known under the special merchant's AppID.
        $prepay = $client->jsapiPrepay(
            self::SP_APPID,
            $mchid,
            self::SUB,
            '点金计划测试商品',
            $outTradeNo,
            $notifyUrl,
            ['total' => $total, 'currency' => 'CNY'],
            ['sub_openid' => self::SUB_OPENID],
            attach: 'store=7',
            subAppid: self::SUB_APPID,
        );
        self::assertSame(['prepay_id'], array_keys($prepay), json_encode($prepay));
        $prepayId = $prepay['prepay_id'];
        self::assertIsString($prepayId);
        self::assertNotSame('', $prepayId);
        self::assertNotNull($client->lastRequestId());
        $unpaid = $client->queryOrderByOutTradeNo($outTradeNo, $mchid, self::SUB);
        self::assertSame('NOTPAY', $unpaid['trade_state'], json_encode($unpaid));
        self::assertArrayNotHasKey('transaction_id', $unpaid, 'no transaction_id before payment');

        // 2. The six values the page passes to getBrandWCPayRequest.
        $before = time();
        $form = $client->requestPayment(self::SUB_APPID, $prepayId);
        $after = time();
        $keys = array_keys($form);
        sort($keys);
        self::assertSame(['appId', 'nonceStr', 'package', 'paySign', 'signType', 'timeStamp'], $keys);
        foreach ($form as $key => $value) {
            self::assertIsString($value, $key);
            self::assertNotSame('', $value, $key);
        }
        self::assertSame(self::SUB_APPID, $form['appId']);
        self::assertSame("prepay_id=$prepayId", $form['package']);
        self::assertSame('RSA', $form['signType']);
        self::assertMatchesRegularExpression('/^\d{10}$/', $form['timeStamp'], 'Unix seconds, not milliseconds');
        self::assertGreaterThanOrEqual($before, (int) $form['timeStamp']);
        self::assertLessThanOrEqual($after, (int) $form['timeStamp']);
        self::assertNotSame($form['nonceStr'], $client->requestPayment(self::SUB_APPID, $prepayId)['nonceStr'], 'a fresh nonce each time');
        $message = "{$form['appId']}\n{$form['timeStamp']}\n{$form['nonceStr']}\n{$form['package']}\n";
        self::assertSame(1, openssl_verify($message, (string) base64_decode($form['paySign'], true), $sandbox->config['certificate_pem'], OPENSSL_ALGO_SHA256), 'paySign is the merchant key over the four lines');

        // 3. The payer pays. A tampered paySign is refused like the WeChat client would.
        [$status, $refused] = self::post($sandbox, '/v1/pay', ['paySign' => base64_encode(random_bytes(256))] + $form);
        self::assertSame(400, $status, json_encode($refused));
        self::assertSame('SIGNATURE_MISMATCH', $refused['code'] ?? null, json_encode($refused));
        [$status, $paid] = self::post($sandbox, '/v1/pay', $form);
        self::assertSame(200, $status, json_encode($paid));
        self::assertSame('SUCCESS', $paid['trade_state'], json_encode($paid));
        $transactionId = $paid['transaction_id'];
        self::assertIsString($transactionId);
        self::assertNotSame('', $transactionId);
        self::assertIsString($paid['callback_id'], 'a loopback notify_url gets the notification');

        // 4. The notification, through parseNotification; 204 only once it parsed.
        $notification = self::receiveNotification($client, $server, 15.0);
        self::assertSame($paid['callback_id'], $notification['id']);
        self::assertSame('TRANSACTION.SUCCESS', $notification['event_type']);
        self::assertSame('encrypt-resource', $notification['resource_type']);
        self::assertSame('支付成功', $notification['summary']);
        $resource = $notification['resource'];
        self::assertIsArray($resource, (string) $notification['plaintext']);
        self::assertEquals(json_decode($notification['plaintext'], true), $resource, 'resource is the plaintext, decoded');
        self::assertSame('SUCCESS', $resource['trade_state']);
        self::assertSame($transactionId, $resource['transaction_id']);
        self::assertSame($outTradeNo, $resource['out_trade_no']);
        self::assertSame($total, $resource['amount']['total']);
        self::assertSame($mchid, $resource['sp_mchid']);
        self::assertSame(self::SUB, $resource['sub_mchid']);
        self::assertSame('store=7', $resource['attach']);
        self::assertSame(self::SUB_OPENID, $resource['payer']['sub_openid']);
        // The sandbox took the answer as an acknowledgement and stops retrying.
        $record = self::delivered($sandbox, $paid['callback_id']);
        self::assertSame('delivered', $record['status'], json_encode($record));
        $last = $record['attempts'][\count($record['attempts']) - 1];
        self::assertSame(204, $last['status'], json_encode($last));
        self::assertTrue($last['acknowledged'], json_encode($last));
        self::assertSame($notifyUrl, $record['url']);

        // 5. Both queries answer the paid order.
        $byNo = $client->queryOrderByOutTradeNo($outTradeNo, $mchid, self::SUB);
        self::assertSame('SUCCESS', $byNo['trade_state'], json_encode($byNo));
        self::assertSame($transactionId, $byNo['transaction_id']);
        self::assertSame($total, $byNo['amount']['total']);
        $byId = $client->queryOrderByTransactionId($transactionId, $mchid, self::SUB);
        self::assertSame('SUCCESS', $byId['trade_state'], json_encode($byId));
        self::assertSame($transactionId, $byId['transaction_id']);
        self::assertSame($outTradeNo, $byId['out_trade_no']);
        $resolved = $client->resolveTransactionId(self::SUB, $outTradeNo);
        self::assertSame(['transaction_id' => $transactionId, 'trade_state' => 'SUCCESS'], $resolved);

        // 6. A paid order cannot be closed; an unknown one does not exist.
        $e = self::failure(fn () => $client->closeOrder($outTradeNo, $mchid, self::SUB), ApiException::class, 'api');
        self::assertSame('ORDERPAID', $e->getCode(), $e->getMessage());
        self::assertNotNull($e->getRequestId());
        $unknown = 'PHPNONE' . bin2hex(random_bytes(6));
        $e = self::failure(fn () => $client->queryOrderByOutTradeNo($unknown, $mchid, self::SUB), ApiException::class, 'api');
        self::assertSame('ORDER_NOT_EXIST', $e->getCode(), $e->getMessage());
        self::assertSame(404, $e->getStatus());
        self::assertSame(['transaction_id' => null, 'trade_state' => null], $client->resolveTransactionId(self::SUB, $unknown));

        // 7. An amount of 0 is refused by the core before anything is signed or sent.
        $sandbox->admin('DELETE', '/requests');
        self::failure(
            fn () => $client->jsapiPrepay(self::SP_APPID, $mchid, self::SUB, '点金计划测试商品', $unknown, $notifyUrl, ['total' => 0], ['sub_openid' => self::SUB_OPENID], subAppid: self::SUB_APPID),
            InvalidInputException::class,
        );
        self::assertSame([], $sandbox->admin('GET', '/requests'), 'nothing may reach the gateway');
    }

    /**
     * Serves the notify URL until one notification parses (answered 204) or $seconds pass.
     * Anything that does not parse is answered 400, as a merchant would, and the sandbox retries.
     *
     * @param resource $server
     * @return array<string, mixed> the parsed notification
     */
    private static function receiveNotification(Client $client, $server, float $seconds): array
    {
        $deadline = microtime(true) + $seconds;
        $failures = [];
        while (($left = $deadline - microtime(true)) > 0) {
            $connection = @stream_socket_accept($server, $left);
            if ($connection === false) {
                break;
            }
            try {
                stream_set_timeout($connection, 5);
                [$requestLine, $headers, $body] = self::readRequest($connection);
                try {
                    self::assertSame('POST /notify HTTP/1.1', $requestLine);
                    $parsed = $client->parseNotification($headers, $body);
                } catch (GoldPlanException $e) {
                    $failures[] = "{$e->getKind()}: {$e->getMessage()}";
                    fwrite($connection, "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: 36\r\nConnection: close\r\n\r\n" . '{"code":"FAIL","message":"rejected"}');
                    continue;
                }
                fwrite($connection, "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
                return $parsed;
            } finally {
                fclose($connection);
            }
        }
        self::fail('no notification parsed in time' . ($failures ? ': ' . implode('; ', $failures) : ''));
    }

    /**
     * One HTTP/1.1 request: its request line, raw headers as [name, value] pairs in the order
     * received, and the body of Content-Length bytes.
     *
     * @param resource $connection
     * @return array{string, list<array{string, string}>, string}
     */
    private static function readRequest($connection): array
    {
        $head = '';
        while (!str_contains($head, "\r\n\r\n")) {
            $chunk = fread($connection, 8192);
            self::assertIsString($chunk);
            self::assertFalse($chunk === '' && (feof($connection) || stream_get_meta_data($connection)['timed_out']), 'the request head broke off');
            $head .= $chunk;
        }
        [$head, $body] = explode("\r\n\r\n", $head, 2);
        $lines = explode("\r\n", $head);
        $requestLine = array_shift($lines);
        $headers = [];
        $length = null;
        foreach ($lines as $line) {
            [$name, $value] = explode(':', $line, 2);
            $headers[] = [$name, trim($value)];
            if (strcasecmp($name, 'Content-Length') === 0) {
                $length = (int) trim($value);
            }
            self::assertNotSame(0, strcasecmp($name, 'Transfer-Encoding'), 'the sandbox sends a Content-Length');
        }
        self::assertNotNull($length, 'no Content-Length');
        while (\strlen($body) < $length) {
            $chunk = fread($connection, $length - \strlen($body));
            self::assertIsString($chunk);
            self::assertFalse($chunk === '' && (feof($connection) || stream_get_meta_data($connection)['timed_out']), 'the body broke off');
            $body .= $chunk;
        }
        self::assertSame($length, \strlen($body));
        return [(string) $requestLine, $headers, $body];
    }

    /** The sandbox's delivery record once it is no longer pending (bounded wait). */
    private static function delivered(Sandbox $sandbox, string $callbackId): array
    {
        $deadline = microtime(true) + 10.0;
        do {
            $record = $sandbox->admin('GET', '/callbacks/' . rawurlencode($callbackId));
            self::assertIsArray($record);
            if ($record['status'] !== 'pending') {
                return $record;
            }
            usleep(20_000);
        } while (microtime(true) < $deadline);
        return $record;
    }

    /**
     * POST to the sandbox's admin API ({base_url}/sandbox$path) with PHP's HTTP stream.
     *
     * @return array{int, mixed} the status and the decoded answer
     */
    private static function post(Sandbox $sandbox, string $path, array $body): array
    {
        $context = stream_context_create(['http' => [
            'method' => 'POST',
            'header' => "Content-Type: application/json\r\n",
            'content' => json_encode($body, JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES),
            'ignore_errors' => true,
            'timeout' => 10,
        ]]);
        self::assertSame(rtrim($sandbox->config['base_url'], '/') . '/sandbox', rtrim($sandbox->config['admin_url'], '/'));
        $text = file_get_contents(rtrim($sandbox->config['base_url'], '/') . '/sandbox' . $path, false, $context);
        self::assertIsString($text);
        self::assertMatchesRegularExpression('#^HTTP/\d(\.\d)? (\d{3})#', $http_response_header[0] ?? '');
        preg_match('#^HTTP/\S+ (\d{3})#', $http_response_header[0], $m);
        return [(int) $m[1], json_decode($text, true, 512, JSON_THROW_ON_ERROR)];
    }
}
