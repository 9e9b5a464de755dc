<?php

/**
 * opcache.preload script of the goldplan package, for PHP-FPM with ffi.enable=preload (where
 * FFI::cdef is refused at run time): declares the FFI scope "goldplan" over libgoldplan.so
 * and preloads the package, whose calls then use FFI::scope('goldplan').
 *
 *   opcache.enable=1
 *   opcache.preload=/path/to/vendor/goldplan/goldplan/preload.php
 *   opcache.preload_user=www-data        ; required when PHP-FPM's master runs as root
 *   ffi.enable=preload
 *
 * The library is GOLDPLAN_LIBRARY from the master's environment (env[...] in a pool does not
 * reach preloading), else the first of /usr/local/lib, /usr/lib/<multiarch>, /usr/lib that has
 * libgoldplan.so, else "libgoldplan.so" through the dynamic linker.
 */

declare(strict_types=1);

if (extension_loaded('goldplan')) {
    // The extension provides every class; nothing to preload.
    return;
}

require __DIR__ . '/autoload.php';

GoldPlan\Internal\Native::preload();

// Loading the classes here makes them preloaded: their calls into FFI are then allowed.
foreach (new RecursiveIteratorIterator(new RecursiveDirectoryIterator(__DIR__ . '/src', FilesystemIterator::SKIP_DOTS)) as $file) {
    $relative = substr($file->getPathname(), strlen(__DIR__ . '/src/'), -4);
    if ($file->getExtension() === 'php' && $relative !== 'functions') {
        $name = 'GoldPlan\\' . str_replace('/', '\\', $relative);
        class_exists($name) || interface_exists($name) || trait_exists($name);
    }
}
