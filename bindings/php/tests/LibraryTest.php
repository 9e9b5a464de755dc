<?php

declare(strict_types=1);

namespace GoldPlan\Tests;

use GoldPlan\Tests\Support\TestCase;

/** How the package finds libgoldplan.so, and what it says when it cannot (FFI door only). */
final class LibraryTest extends TestCase
{
    protected function setUp(): void
    {
        if (GOLDPLAN_TEST_DOOR !== 'ffi') {
            self::markTestSkipped('library discovery belongs to the package door');
        }
    }

    /** Runs $code after loading the package in a fresh PHP; returns [exit code, output]. */
    private static function php(string $code, array $env, array $ini = ['ffi.enable' => '1']): array
    {
        $command = [PHP_BINARY, '-n', '-d', 'extension=ffi'];
        foreach ($ini as $name => $value) {
            $command[] = '-d';
            $command[] = "$name=$value";
        }
        $command[] = '-r';
        $command[] = 'require ' . var_export(dirname(__DIR__) . '/autoload.php', true) . ";\n" . $code;
        $process = proc_open($command, [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes, null, $env + ['PATH' => (string) getenv('PATH')]);
        $out = stream_get_contents($pipes[1]) . stream_get_contents($pipes[2]);
        return [proc_close($process), $out];
    }

    private const REPORT = 'try { echo GoldPlan\version(); } catch (GoldPlan\Exception\ConfigurationException $e) { echo get_class($e), ": ", $e->getMessage(); }';

    public function testTheEnvironmentVariable(): void
    {
        [$status, $out] = self::php(self::REPORT, ['GOLDPLAN_LIBRARY' => (string) getenv('GOLDPLAN_LIBRARY')]);
        self::assertSame(0, $status, $out);
        self::assertMatchesRegularExpression('/^\d+\.\d+\.\d+$/', $out);
    }

    public function testExplicitConfigurationComesFirst(): void
    {
        $library = var_export((string) getenv('GOLDPLAN_LIBRARY'), true);
        [, $out] = self::php("GoldPlan\\Internal\\Native::useLibrary($library);" . self::REPORT, ['GOLDPLAN_LIBRARY' => '/nonexistent/libgoldplan.so']);
        self::assertMatchesRegularExpression('/^\d+\.\d+\.\d+$/', $out);
        [, $out] = self::php("GoldPlan\\Internal\\Native::useLibrary('/nowhere/libgoldplan.so');" . self::REPORT, ['GOLDPLAN_LIBRARY' => (string) getenv('GOLDPLAN_LIBRARY')]);
        self::assertStringStartsWith('GoldPlan\Exception\ConfigurationException: cannot load libgoldplan from Native::useLibrary()=/nowhere/libgoldplan.so', $out);
    }

    public function testAWrongPathIsNotReplacedByAnotherLibrary(): void
    {
        [, $out] = self::php(self::REPORT, ['GOLDPLAN_LIBRARY' => '/nonexistent/libgoldplan.so']);
        self::assertStringStartsWith('GoldPlan\Exception\ConfigurationException: cannot load libgoldplan from GOLDPLAN_LIBRARY=/nonexistent/libgoldplan.so', $out);
    }

    public function testNothingFoundNamesWhatWasTried(): void
    {
        [, $out] = self::php(self::REPORT, ['LD_LIBRARY_PATH' => '/nonexistent']);
        self::assertStringStartsWith('GoldPlan\Exception\ConfigurationException: cannot find libgoldplan.so: tried ', $out);
        foreach (['FFI::scope("goldplan")', '/usr/local/lib/libgoldplan.so', '/usr/lib/libgoldplan.so', 'libgoldplan.so (', 'GOLDPLAN_LIBRARY'] as $tried) {
            self::assertStringContainsString($tried, $out);
        }
    }

    public function testASecretGivenForThePathIsNotEchoed(): void
    {
        $pem = self::vectorFile('keys/merchant_test_key.pem');
        $apiv3 = '0123456789abcdefghijklmnopqrstuv';
        // The whole exception, previous ones included, as an uncaught one would be logged.
        $show = 'try { GoldPlan\version(); } catch (GoldPlan\Exception\ConfigurationException $e) { echo $e; }';
        foreach ([
            ['GoldPlan\Internal\Native::useLibrary(' . var_export($pem, true) . ');' . $show, [], trim(explode("\n", trim($pem))[1])],
            [$show, ['GOLDPLAN_LIBRARY' => $apiv3], $apiv3],
        ] as [$code, $env, $secret]) {
            [, $out] = self::php($code, $env);
            self::assertStringContainsString('cannot load libgoldplan from ', $out);
            self::assertStringContainsString('not shown', $out);
            self::assertStringNotContainsString($secret, $out);
        }
        // A real path still is named.
        [, $out] = self::php(self::REPORT, ['GOLDPLAN_LIBRARY' => '/nonexistent/libgoldplan.so.1']);
        self::assertStringContainsString('GOLDPLAN_LIBRARY=/nonexistent/libgoldplan.so.1', $out);
    }

    public function testFfiDisabled(): void
    {
        [, $out] = self::php(self::REPORT, ['GOLDPLAN_LIBRARY' => (string) getenv('GOLDPLAN_LIBRARY')], ['ffi.enable' => '0']);
        self::assertStringStartsWith('GoldPlan\Exception\ConfigurationException: FFI is disabled (ffi.enable=', $out);
    }

    public function testPreloadModeOutsideTheCliNeedsThePreloadedScope(): void
    {
        // The CLI may use FFI::cdef under ffi.enable=preload; the message for servers is
        // covered by the PHP-FPM test (tests/fpm.sh), which runs with exactly that setting.
        [$status, $out] = self::php(self::REPORT, ['GOLDPLAN_LIBRARY' => (string) getenv('GOLDPLAN_LIBRARY')], ['ffi.enable' => 'preload']);
        self::assertSame(0, $status, $out);
        self::assertMatchesRegularExpression('/^\d+\.\d+\.\d+$/', $out);
    }
}
