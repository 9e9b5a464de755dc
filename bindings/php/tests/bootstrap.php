<?php

/**
 * PHPUnit bootstrap. GOLDPLAN_PHP_DOOR says which door the suite proves: "ffi" (default, the
 * package over FFI; the extension must not be loaded) or "ext" (the extension, loaded with
 * -d extension=…/goldplan.so; the package's loader is still registered and must step aside).
 */

declare(strict_types=1);

$door = getenv('GOLDPLAN_PHP_DOOR') ?: 'ffi';
if (!in_array($door, ['ffi', 'ext'], true)) {
    fwrite(STDERR, "GOLDPLAN_PHP_DOOR must be ffi or ext, not $door\n");
    exit(2);
}
if ($door === 'ext' && !extension_loaded('goldplan')) {
    fwrite(STDERR, "GOLDPLAN_PHP_DOOR=ext but the goldplan extension is not loaded (php -d extension=/path/to/goldplan.so)\n");
    exit(2);
}
if ($door === 'ffi' && extension_loaded('goldplan')) {
    fwrite(STDERR, "GOLDPLAN_PHP_DOOR=ffi but the goldplan extension is loaded\n");
    exit(2);
}
define('GOLDPLAN_TEST_DOOR', $door);

// What an application does: load the package (Composer's vendor/autoload.php or ours).
require dirname(__DIR__) . '/autoload.php';

spl_autoload_register(static function (string $class): void {
    if (strncmp($class, 'GoldPlan\\Tests\\', 15) === 0) {
        $file = __DIR__ . '/' . str_replace('\\', '/', substr($class, 15)) . '.php';
        if (is_file($file)) {
            require $file;
        }
    }
});
require __DIR__ . "/support/Sandbox.php";
require __DIR__ . "/support/TestCase.php";
