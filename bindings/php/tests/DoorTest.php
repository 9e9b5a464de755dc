<?php

declare(strict_types=1);

namespace GoldPlan\Tests;

use GoldPlan\Tests\Support\TestCase;

/**
 * The classes come from the door this run proves (GOLDPLAN_PHP_DOOR): the extension when it
 * is loaded (the package steps aside), else the package over FFI.
 */
final class DoorTest extends TestCase
{
    private const PUBLIC = [
        \GoldPlan\Client::class, \GoldPlan\Signer::class, \GoldPlan\Verifier::class,
        \GoldPlan\Protocol::class, \GoldPlan\Receipt::class, \GoldPlan\Exception\GoldPlanException::class,
        \GoldPlan\Exception\ApiException::class,
    ];

    public function testClassesComeFromTheExpectedDoor(): void
    {
        $expected = GOLDPLAN_TEST_DOOR === 'ext' ? 'goldplan' : false;
        foreach (self::PUBLIC as $class) {
            self::assertSame($expected, (new \ReflectionClass($class))->getExtensionName(), $class);
        }
        self::assertSame($expected, (new \ReflectionFunction('GoldPlan\version'))->getExtensionName());
        self::assertMatchesRegularExpression('/^\d+\.\d+\.\d+/', \GoldPlan\version());
    }

    public function testThePackageStepsAsideWhenTheExtensionIsLoaded(): void
    {
        // Loading the package again (as Composer's autoloader would) declares nothing new.
        $classes = get_declared_classes();
        $functions = get_defined_functions()['user'];
        require dirname(__DIR__) . '/autoload.php';
        require dirname(__DIR__) . '/src/functions.php';
        self::assertSame($classes, get_declared_classes());
        self::assertSame($functions, get_defined_functions()['user']);
        if (GOLDPLAN_TEST_DOOR === 'ext') {
            self::assertFalse(class_exists(\GoldPlan\Internal\Native::class, false), 'the FFI plumbing was loaded beside the extension');
            self::assertTrue(\extension_loaded('goldplan'));
        } else {
            self::assertFalse(\extension_loaded('goldplan'));
            self::assertTrue(class_exists(\GoldPlan\Internal\Native::class, false));
        }
    }

    public function testNothingInThePackageDeclaresClassesEagerly(): void
    {
        // A fresh PHP without FFI or the extension: loading the package must declare no class
        // (only version(), guarded), so an installed extension always wins.
        $script = 'require ' . var_export(dirname(__DIR__) . '/autoload.php', true) . ';'
            . '$c = array_filter(get_declared_classes(), fn ($n) => str_starts_with($n, "GoldPlan\\\\"));'
            . 'echo json_encode([array_values($c), function_exists("GoldPlan\\\\version")]);';
        $out = shell_exec(escapeshellarg(PHP_BINARY) . ' -n -r ' . escapeshellarg($script));
        self::assertSame('[[],true]', $out);
    }
}
