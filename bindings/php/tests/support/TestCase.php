<?php

declare(strict_types=1);

namespace GoldPlan\Tests\Support;

use GoldPlan\Exception\GoldPlanException;

/** Shared helpers of the PHPUnit suite: vectors, keys, and typed failures. */
abstract class TestCase extends \PHPUnit\Framework\TestCase
{
    public const VECTORS = __DIR__ . '/../../../../tests/vectors';
    public const SUB = '1900000109';

    /** @return array<string, mixed> */
    protected static function vector(string $name): array
    {
        $data = json_decode((string) file_get_contents(self::VECTORS . "/$name"), true, 512, JSON_THROW_ON_ERROR);
        self::assertSame(1, $data['format_version'] ?? null, "$name: unknown format_version");
        return $data;
    }

    protected static function vectorFile(string $relative): string
    {
        return (string) file_get_contents(self::VECTORS . '/' . $relative);
    }

    /**
     * Runs $f, which must throw $class (a GoldPlanException) with $kind when given.
     * @param class-string<GoldPlanException> $class
     */
    protected static function failure(callable $f, string $class, ?string $kind = null): GoldPlanException
    {
        try {
            $f();
        } catch (GoldPlanException $e) {
            self::assertInstanceOf($class, $e, get_class($e) . " ({$e->getKind()}): {$e->getMessage()}");
            if ($kind !== null) {
                self::assertSame($kind, $e->getKind(), $e->getMessage());
            }
            self::assertNotSame('', $e->getMessage());
            return $e;
        }
        self::fail("expected $class" . ($kind ? " ($kind)" : ''));
    }

    /** A sandbox client with overrides of sandbox.json. */
    protected static function client(Sandbox $sandbox, array $overrides = []): \GoldPlan\Client
    {
        return new \GoldPlan\Client(array_merge($sandbox->config, $overrides));
    }
}
