<?php

/**
 * The package's loader for installs without Composer (Composer's vendor/autoload.php does the
 * same from composer.json). It only registers a PSR-4 loader and declares GoldPlan\version()
 * when nothing did: with the goldplan extension loaded every GoldPlan class already exists, so
 * the loader never fires and the extension answers alone.
 */

declare(strict_types=1);

spl_autoload_register(static function (string $class): void {
    if (strncmp($class, 'GoldPlan\\', 9) !== 0) {
        return;
    }
    $file = __DIR__ . '/src/' . str_replace('\\', '/', substr($class, 9)) . '.php';
    if (is_file($file)) {
        require $file;
    }
});

require_once __DIR__ . '/src/functions.php';
