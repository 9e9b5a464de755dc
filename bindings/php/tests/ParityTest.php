<?php

declare(strict_types=1);

namespace GoldPlan\Tests;

use GoldPlan\Client;
use GoldPlan\Exception\GoldPlanException;
use GoldPlan\Tests\Support\Sandbox;
use GoldPlan\Tests\Support\TestCase;

/**
 * The PHP binding against the operation registry (bindings/operations.json) and the operation
 * vectors (tests/vectors/operations): every registry entry has its one name on its receiver,
 * and every vector case gives, through the typed method, the same wire request and result as
 * the Rust reference (tests/e2e/tests/operations.rs). Run through both doors by run.sh.
 */
final class ParityTest extends TestCase
{
    private const OPERATIONS = __DIR__ . '/../../operations.json';
    private const OPERATION_VECTORS = self::VECTORS . '/operations';

    /** Where each receiver of the registry lives in PHP. */
    private const RECEIVERS = [
        'client' => Client::class,
        'module' => \GoldPlan\Protocol::class,
        'signer' => \GoldPlan\Signer::class,
        'verifier' => \GoldPlan\Verifier::class,
    ];

    /** @return list<array<string, mixed>> */
    private static function operations(): array
    {
        $operations = json_decode((string) file_get_contents(self::OPERATIONS), true, 512, \JSON_THROW_ON_ERROR);
        self::assertIsArray($operations);
        self::assertNotEmpty($operations);
        return $operations;
    }

    /** @return array<string, mixed> the registry entry of $name */
    private static function operation(string $name): array
    {
        foreach (self::operations() as $operation) {
            if ($operation['name'] === $name) {
                return $operation;
            }
        }
        self::fail("$name is not in bindings/operations.json");
    }

    private static function camel(string $snake): string
    {
        return lcfirst(str_replace('_', '', ucwords($snake, '_')));
    }

    /**
     * Every registry entry exists under its camelCase name on its receiver: public, static on
     * Protocol, an instance method elsewhere. Remote operations and helpers take the
     * registry's parameters in its order (the vectors pass them positionally).
     */
    public function testEveryRegistryEntryHasItsNameOnItsReceiver(): void
    {
        $seen = [];
        foreach (self::operations() as $op) {
            $class = self::RECEIVERS[$op['receiver']] ?? null;
            self::assertNotNull($class, "{$op['name']}: unknown receiver {$op['receiver']}");
            $method = self::camel($op['name']);
            self::assertTrue(method_exists($class, $method), "$class::$method is missing ({$op['name']})");
            $reflection = new \ReflectionMethod($class, $method);
            self::assertTrue($reflection->isPublic(), "$class::$method is not public");
            self::assertSame($op['receiver'] === 'module', $reflection->isStatic(), "$class::$method: static only on Protocol");
            if ($op['receiver'] === 'module') {
                self::assertTrue(\is_callable([$class, $method]), "$class::$method is not callable");
            }
            if (\in_array($op['kind'], ['remote', 'local'], true)) {
                $expected = array_map(fn (array $p) => self::camel($p['name']), $op['parameters']);
                $got = array_map(fn (\ReflectionParameter $p) => $p->getName(), $reflection->getParameters());
                self::assertSame($expected, $got, "$class::$method: the registry's parameters in its order");
                foreach ($op['parameters'] as $i => $p) {
                    self::assertSame(!$p['required'], $reflection->getParameters()[$i]->isOptional(), "$class::$method: {$p['name']} optional iff not required");
                }
            }
            $seen[] = $op['kind'];
        }
        // The four kinds are all there: a registry read wrongly cannot pass as empty.
        self::assertSame(['client', 'local', 'method', 'remote'], array_values(array_unique(self::sorted($seen))));
    }

    /** @return list<string> */
    private static function sorted(array $values): array
    {
        sort($values);
        return $values;
    }

    /** @return array<string, array{string}> */
    public static function vectorFiles(): array
    {
        $files = [];
        foreach (glob(self::OPERATION_VECTORS . '/*.json') ?: [] as $path) {
            $files[basename($path)] = [$path];
        }
        return $files;
    }

    /**
     * The file list: one vector file per remote operation and nothing else, and each one is a
     * case of testTheTypedMethodsAnswerTheVectors (its data provider reads the same folder).
     */
    public function testEveryOperationVectorFileIsRead(): void
    {
        $remote = [];
        foreach (self::operations() as $op) {
            if ($op['kind'] === 'remote') {
                $remote[] = "{$op['name']}.json";
            }
        }
        $files = array_keys(self::vectorFiles());
        self::assertSame(self::sorted($remote), self::sorted($files), 'a remote operation without vectors, or a vector file without its operation');
        foreach ($files as $file) {
            $v = self::vector("operations/$file");
            self::assertSame(basename($file, '.json'), $v['operation'], $file);
            self::assertNotEmpty($v['cases'], $file);
        }
    }

    /**
     * The vectors of one operation against a fresh sandbox: `before` must succeed, then each
     * case's wire request (the sandbox's request log, byte for byte), result or error.
     *
     * @dataProvider vectorFiles
     */
    public function testTheTypedMethodsAnswerTheVectors(string $path): void
    {
        $v = self::vector('operations/' . basename($path));
        $sandbox = new Sandbox('public_key');
        $client = Client::fromFile($sandbox->configPath);
        foreach ($v['before'] ?? [] as $step) {
            self::call($client, $step['operation'], $step['arguments']);
        }
        foreach ($v['cases'] as $case) {
            $name = "{$v['operation']}: {$case['name']}";
            $sandbox->admin('DELETE', '/requests');
            $result = null;
            $error = null;
            try {
                $result = self::call($client, $v['operation'], $case['arguments']);
            } catch (GoldPlanException $e) {
                $error = $e;
            }
            $logged = $sandbox->admin('GET', '/requests');
            self::assertIsArray($logged, $name);
            if ($case['request'] === null) {
                self::assertSame([], $logged, "$name: nothing may reach the gateway");
            } else {
                self::assertNotEmpty($logged, "$name: nothing sent");
                $last = $logged[\count($logged) - 1];
                self::assertSame($case['request']['method'], $last['method'], $name);
                self::assertSame($case['request']['path'], $last['path'], $name);
                self::assertSame($case['request']['body'], $last['body'] ?? null, $name);
            }
            if (isset($case['error'])) {
                self::assertNotNull($error, "$name: expected a {$case['error']['kind']} error, got " . json_encode($result));
                self::assertSame($case['error']['kind'], $error->getKind(), "$name: {$error->getMessage()}");
                if (isset($case['error']['code'])) {
                    self::assertSame($case['error']['code'], $error->getCode(), $name);
                }
            } else {
                self::assertNull($error, "$name: " . ($error ? $error->getKind() . ': ' . $error->getMessage() : ''));
                if (\array_key_exists('result_keys', $case)) {
                    // Values the server chooses (a prepay_id): exactly these keys, each a
                    // non-empty string.
                    self::assertIsArray($result, $name);
                    self::assertFalse(array_is_list($result) && $result !== [], "$name: an object, not a list: " . json_encode($result));
                    self::assertSame(self::sorted($case['result_keys']), self::sorted(array_keys($result)), "$name: " . json_encode($result));
                    foreach ($case['result_keys'] as $key) {
                        self::assertIsString($result[$key], "$name: $key");
                        self::assertNotSame('', $result[$key], "$name: $key");
                    }
                } else {
                    // JSON null (204 No Content) is [] in PHP, as the typed methods document.
                    self::assertSame(self::canonical($case['result'] ?? []), self::canonical($result), $name);
                }
                self::assertNotNull($client->lastRequestId(), "$name: no Request-ID");
            }
        }
    }

    /**
     * Calls the typed method of $operation with $arguments (wire names) passed positionally in
     * the order of the registry's parameters, an absent one as null.
     *
     * @param array<string, mixed> $arguments
     */
    private static function call(Client $client, string $operation, array $arguments): array
    {
        $positional = [];
        foreach (self::operation($operation)['parameters'] as $p) {
            $positional[] = $arguments[$p['name']] ?? null;
        }
        $unknown = array_diff(array_keys($arguments), array_column(self::operation($operation)['parameters'], 'name'));
        self::assertSame([], array_values($unknown), "$operation: arguments the registry does not list");
        return $client->{self::camel($operation)}(...$positional);
    }

    /** JSON equality: objects compared whatever their key order. */
    private static function canonical(mixed $value): mixed
    {
        if (!\is_array($value)) {
            return $value;
        }
        if (!array_is_list($value)) {
            ksort($value);
        }
        return array_map(fn ($item) => self::canonical($item), $value);
    }
}
