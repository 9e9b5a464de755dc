<?php

declare(strict_types=1);

namespace GoldPlan\Tests;

use GoldPlan\Tests\Support\TestCase;

/**
 * resources/goldplan_php.h is the C library's PHP-FFI-clean header, generated there (the C
 * header test checks it against cbindgen's output); here: it declares what the package calls.
 */
final class HeaderTest extends TestCase
{
    private const HEADER = __DIR__ . '/../resources/goldplan_php.h';

    public function testTheHeaderDeclaresWhatThePackageCalls(): void
    {
        $header = (string) file_get_contents(self::HEADER);
        self::assertDoesNotMatchRegularExpression('/^\s*#/m', $header, 'PHP FFI reads no preprocessor lines');
        preg_match_all('/\b(goldplan_[a-z_]+)\s*\(/', $header, $declared);
        $called = [];
        foreach (glob(dirname(__DIR__) . '/src/{,*/}*.php', GLOB_BRACE) as $file) {
            preg_match_all("/'(goldplan_[a-z_]+)'|->(goldplan_[a-z_]+)\(/", (string) file_get_contents($file), $m);
            $called = [...$called, ...array_filter($m[1]), ...array_filter($m[2])];
        }
        $called = array_unique(array_filter($called, fn ($n) => !in_array($n, ['goldplan_client', 'goldplan_signer', 'goldplan_verifier', 'goldplan_response'], true)));
        self::assertNotEmpty($called);
        self::assertSame([], array_values(array_diff($called, $declared[1])), 'called but not declared');
    }

    public function testTheScopeHeaderForPreload(): void
    {
        if (GOLDPLAN_TEST_DOOR !== 'ffi') {
            self::markTestSkipped('the FFI header belongs to the package door');
        }
        $text = shell_exec(escapeshellarg(PHP_BINARY) . ' ' . escapeshellarg(dirname(__DIR__) . '/bin/goldplan-ffi-header') . ' /opt/x/libgoldplan.so');
        self::assertStringStartsWith("#define FFI_SCOPE \"goldplan\"\n#define FFI_LIB \"/opt/x/libgoldplan.so\"\n", (string) $text);
        self::assertStringContainsString('goldplan_client_new', (string) $text);
    }
}
