<?php

declare(strict_types=1);

namespace GoldPlan\Tests;

use GoldPlan\Tests\Support\TestCase;

/**
 * The loaded door (package or extension) declares exactly goldplan.stub.php: the same classes,
 * methods, parameter names, types and defaults, return types, properties and flags.
 */
final class ApiSurfaceTest extends TestCase
{
    private const TOOL = __DIR__ . '/tools/surface.php';

    public function testTheLoadedDoorMatchesTheStub(): void
    {
        // The stub in a process of its own, where no door is loaded (-n: no extension from php.ini).
        $command = [PHP_BINARY, '-n', self::TOOL, 'stub'];
        $stubJson = self::capture($command);
        $stub = json_decode($stubJson, true, 512, JSON_THROW_ON_ERROR);
        self::assertGreaterThanOrEqual(18, count($stub['classes']), $stubJson);
        self::assertArrayHasKey('goldplan\\version', $stub['functions']);

        // This process: the door under test, loaded by the bootstrap.
        require_once __DIR__ . '/tools/surface_lib.php';
        $loaded = \GoldPlan\Tests\Tools\describe(array_keys($stub['classes']));
        self::assertSame($stub, $loaded);
    }

    public function testThePackageHasNoPublicClassBeyondTheStub(): void
    {
        $stub = json_decode(self::capture([PHP_BINARY, '-n', self::TOOL, 'stub']), true, 512, JSON_THROW_ON_ERROR);
        $src = dirname(__DIR__) . '/src';
        $declared = [];
        foreach (new \RecursiveIteratorIterator(new \RecursiveDirectoryIterator($src, \FilesystemIterator::SKIP_DOTS)) as $file) {
            $relative = substr($file->getPathname(), strlen($src) + 1, -4);
            if ($relative !== 'functions' && !str_starts_with($relative, 'Internal/')) {
                $declared[] = 'GoldPlan\\' . str_replace('/', '\\', $relative);
            }
        }
        sort($declared);
        self::assertSame(array_keys($stub['classes']), $declared);
        // Everything under Internal is final or a trait, and marked @internal.
        foreach (glob($src . '/Internal/*.php') as $file) {
            self::assertStringContainsString('@internal', (string) file_get_contents($file), $file);
        }
    }

    /** @param list<string> $command */
    private static function capture(array $command): string
    {
        $process = proc_open($command, [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes);
        self::assertIsResource($process);
        $out = stream_get_contents($pipes[1]);
        $err = stream_get_contents($pipes[2]);
        self::assertSame(0, proc_close($process), $err);
        return (string) $out;
    }
}
