<?php

declare(strict_types=1);

namespace GoldPlan\Tests;

use GoldPlan\Client;
use GoldPlan\Protocol;
use GoldPlan\Signer;
use GoldPlan\Tests\Support\TestCase;
use GoldPlan\Verifier;

/**
 * tests/vectors/secret_sweep.json: a private key (PEM, body, body as lines) and the APIv3 key
 * put into every configuration field, one at a time, and into every argument that takes a
 * key. Whatever fails must not show `window` consecutive characters of a `must_not_appear`
 * line: not in the message, not in (string)$e, not in the trace with its arguments.
 */
final class SecretSweepTest extends TestCase
{
    /** @var array<string, mixed> */
    private static array $sweep;
    /** @var array<string, int> every window of every must_not_appear line => the line's index */
    private static array $windows;
    /** @var list<string> what leaked, described without the secret */
    private array $leaks = [];
    private int $failures = 0;

    public static function setUpBeforeClass(): void
    {
        self::$sweep = json_decode(self::vectorFile('secret_sweep.json'), true, 512, JSON_THROW_ON_ERROR);
        $width = self::$sweep['window'];
        self::assertIsInt($width);
        self::$windows = [];
        foreach (self::$sweep['must_not_appear'] as $i => $line) {
            self::assertGreaterThanOrEqual($width, \strlen($line), "must_not_appear[$i] is shorter than the window");
            for ($at = 0; $at + $width <= \strlen($line); $at++) {
                self::$windows[substr($line, $at, $width)] = $i;
            }
        }
    }

    public function testTheWindowCheckSeesAKeyLineInsideLongerText(): void
    {
        $line = self::$sweep['must_not_appear'][3];
        self::assertNull(self::leak('nothing secret here, only ' . substr($line, 0, self::$sweep['window'] - 1)));
        self::assertSame(3, self::leak('prefix ' . substr($line, 5, self::$sweep['window']) . ' suffix'));
    }

    public function testEverySecretInEveryClientFieldIsNotEchoed(): void
    {
        foreach (self::$sweep['fields'] as $field) {
            foreach (self::$sweep['values'] as $name => $value) {
                $label = "Client, $field = $name";
                if ($field === 'config_path') {
                    $client = $this->attempt($label, static fn () => Client::fromFile($value));
                } else {
                    $config = [$field => $value] + self::config();
                    $client = $this->attempt($label, static fn () => new Client($config));
                    unset($config);
                }
                if ($client instanceof Client) {
                    // Accepted: what the object shows, and a call's failure (the gateway is a closed port).
                    $this->scan("$label: the object", self::shown($client));
                    $this->attempt("$label: a call", static fn () => $client->closeAdvertisingShow(self::SUB));
                }
            }
        }
        $this->assertNothingLeaked(55);
    }

    /** The same, each configuration written to a file and read with Client::fromFile(). */
    public function testEverySecretInEveryFieldOfAConfigFileIsNotEchoed(): void
    {
        $file = tempnam(sys_get_temp_dir(), 'goldplan-sweep-');
        self::assertIsString($file);
        try {
            foreach (self::$sweep['fields'] as $field) {
                if ($field === 'config_path') {
                    continue;
                }
                foreach (self::$sweep['values'] as $name => $value) {
                    file_put_contents($file, json_encode([$field => $value] + self::config(), JSON_THROW_ON_ERROR));
                    $client = $this->attempt("config file, $field = $name", static fn () => Client::fromFile($file));
                    if ($client instanceof Client) {
                        $this->scan("config file, $field = $name: the object", self::shown($client));
                    }
                }
            }
        } finally {
            // The file held the keys: overwrite it before it goes.
            file_put_contents($file, str_repeat("\0", 8192));
            unlink($file);
        }
        $this->assertNothingLeaked(50);
    }

    /** A Signer reads a client configuration (the fields it does not use are still checked). */
    public function testEverySecretInEverySignerFieldIsNotEchoed(): void
    {
        foreach (self::$sweep['fields'] as $field) {
            if ($field === 'config_path') {
                continue;
            }
            foreach (self::$sweep['values'] as $name => $value) {
                $config = [$field => $value] + self::config();
                $signer = $this->attempt("Signer, $field = $name", static fn () => new Signer($config));
                unset($config);
                if ($signer instanceof Signer) {
                    $this->scan("Signer, $field = $name: the object", self::shown($signer));
                }
            }
        }
        $this->assertNothingLeaked(35);
    }

    /** A Verifier takes only its own fields: the sweep's that apply, and the keys it names otherwise. */
    public function testEverySecretInEveryVerifierFieldIsNotEchoed(): void
    {
        $base = ['public_key_id' => self::GATEWAY_KEY_ID, 'public_key' => self::VECTORS . '/keys/wechatpay_test_pubkey.pem'];
        $fields = [
            'public_key_id' => static fn (string $v) => ['public_key_id' => $v] + $base,
            'public_key' => static fn (string $v) => ['public_key' => $v] + $base,
            'public_key_pem' => static fn (string $v) => ['public_key_id' => self::GATEWAY_KEY_ID, 'public_key_pem' => $v],
            'platform_certificates' => static fn (string $v) => ['platform_certificates' => [$v]],
            'platform_certificates[].pem' => static fn (string $v) => ['platform_certificates' => [['pem' => $v]]],
            // not a verifier's field: refused by name
            'apiv3_key' => static fn (string $v) => ['apiv3_key' => $v] + $base,
        ];
        foreach ($fields as $field => $make) {
            foreach (self::$sweep['values'] as $name => $value) {
                $config = $make($value);
                $verifier = $this->attempt("Verifier, $field = $name", static fn () => new Verifier($config));
                unset($config);
                if ($verifier instanceof Verifier) {
                    $this->scan("Verifier, $field = $name: the object", self::shown($verifier));
                }
            }
        }
        $this->assertNothingLeaked(15);
    }

    /** The functions that take a key (the APIv3 key) or a secret (a sensitive field). */
    public function testEverySecretGivenAsAKeyArgumentIsNotEchoed(): void
    {
        $apiv3 = '0123456789abcdefghijklmnopqrstuv';
        $nonce = 'abcdefghijkl';
        $sealed = Protocol::aeadEncrypt($apiv3, 'transaction', $nonce, '{"a":1}');
        $body = self::notificationBody($apiv3, ['out_trade_no' => 'T-1']);
        $headers = self::signedHeaders($body);
        $verifier = new Verifier(['public_key_id' => self::GATEWAY_KEY_ID, 'public_key' => self::vectorFile('keys/wechatpay_test_pubkey.pem')]);
        $signer = new Signer(self::config());
        $client = new Client(self::config());
        foreach (self::$sweep['values'] as $name => $value) {
            $this->attempt("Protocol::aeadDecrypt(apiv3Key: $name)", static fn () => Protocol::aeadDecrypt($value, 'transaction', $nonce, $sealed));
            $this->attempt("Protocol::aeadEncrypt(apiv3Key: $name)", static fn () => Protocol::aeadEncrypt($value, 'transaction', $nonce, 'plain'));
            $this->attempt("Protocol::aeadEncrypt(apiv3Key: $name, no nonce)", static fn () => Protocol::aeadEncrypt($value, 'transaction', '', 'plain'));
            $this->attempt("Verifier::parseNotification(apiv3Key: $name)", static fn () => $verifier->parseNotification($value, $headers, $body));
            $this->attempt("Verifier::parseNotification(apiv3Key: $name, unsigned)", static fn () => $verifier->parseNotification($value, [], $body));
            $this->attempt("Signer::decryptSensitive($name)", static fn () => $signer->decryptSensitive($value));
            $this->attempt("Client::decryptSensitive($name)", static fn () => $client->decryptSensitive($value));
        }
        $this->assertNothingLeaked(20);
    }

    /** Both doors: a goldplan exception's trace has no arguments, whatever php.ini says. */
    public function testAGoldPlanExceptionKeepsNoArgumentsInItsTrace(): void
    {
        $previous = ini_set('zend.exception_ignore_args', '0');
        try {
            $e = self::failure(static fn () => Client::fromFile('/nonexistent/goldplan-sweep.json'), \GoldPlan\Exception\ConfigurationException::class);
        } finally {
            ini_set('zend.exception_ignore_args', (string) $previous);
        }
        self::assertNotSame([], $e->getTrace());
        foreach ($e->getTrace() as $i => $frame) {
            self::assertArrayNotHasKey('args', $frame, "frame $i ({$frame['function']})");
        }
        self::assertStringNotContainsString('goldplan-sweep.json\'', $e->getTraceAsString());
    }

    // ---- helpers ----------------------------------------------------------------------

    /** A valid configuration (public-key mode, the vector keys) whose gateway is a closed port. */
    private static function config(): array
    {
        return self::vectorConfig('http://127.0.0.1:9');
    }

    /**
     * Runs $f (a closure without parameters, so that no frame of this test holds the value as
     * an argument) and scans whatever it throws; returns what $f returned, or null.
     */
    private function attempt(string $label, \Closure $f): mixed
    {
        // Traces with their arguments, as a development php.ini shows them, and whole string
        // arguments in (string)$e: a value cut to 15 characters would hide a 16-character window.
        $previous = [ini_set('zend.exception_ignore_args', '0'), ini_set('zend.exception_string_param_max_len', '1000000')];
        try {
            return $f();
        } catch (\Throwable $e) {
            $this->failures++;
            $class = \get_class($e);
            if ($e->getMessage() === '') {
                $this->leaks[] = "$label: $class has no message";
            }
            $this->scan("$label: getMessage() of $class", $e->getMessage());
            $this->scan("$label: (string) of $class", (string) $e);
            $this->scan("$label: the trace of $class", self::shown(self::ownFrames($e->getTrace())));
            for ($p = $e->getPrevious(); $p !== null; $p = $p->getPrevious()) {
                $this->scan("$label: the trace of the previous " . \get_class($p), self::shown(self::ownFrames($p->getTrace())));
            }
            return null;
        } finally {
            ini_set('zend.exception_ignore_args', (string) $previous[0]);
            ini_set('zend.exception_string_param_max_len', (string) $previous[1]);
        }
    }

    /**
     * The frames of the call under test: up to the closure attempt() ran. Below it are this
     * test's and PHPUnit's frames, whose arguments (the closure and its bound value) are the
     * test's own.
     *
     * @param list<array<string, mixed>> $trace
     * @return list<array<string, mixed>>
     */
    private static function ownFrames(array $trace): array
    {
        $own = [];
        foreach ($trace as $frame) {
            if (($frame['class'] ?? null) === self::class && $frame['function'] === 'attempt') {
                break;
            }
            $own[] = $frame;
        }
        return $own;
    }

    private function scan(string $where, string $text): void
    {
        $line = self::leak($text);
        if ($line !== null) {
            $this->leaks[] = "$where: shows a window of must_not_appear[$line]";
        }
    }

    /** The index of the must_not_appear line one of whose windows $text contains, or null. */
    private static function leak(string $text): ?int
    {
        $width = self::$sweep['window'];
        for ($at = 0, $last = \strlen($text) - $width; $at <= $last; $at++) {
            $line = self::$windows[substr($text, $at, $width)] ?? null;
            if ($line !== null) {
                return $line;
            }
        }
        return null;
    }

    /** Everything PHP can show of a value. */
    private static function shown(mixed $value): string
    {
        ob_start();
        var_dump($value);
        print_r($value);
        echo "\n", var_export($value, true), "\n", json_encode($value, JSON_PARTIAL_OUTPUT_ON_ERROR), "\n";
        try {
            echo serialize($value);
        } catch (\Exception) {
            // the handle classes and SensitiveParameterValue refuse serialization
        }
        return (string) ob_get_clean();
    }

    /** No leak, and at least $minFailures attempts failed (else the sweep proves little). */
    private function assertNothingLeaked(int $minFailures): void
    {
        self::assertSame([], $this->leaks, implode("\n", $this->leaks));
        self::assertGreaterThanOrEqual($minFailures, $this->failures, 'fewer attempts failed than the sweep expects');
    }
}
