<?php

/**
 * Prints the API declared by goldplan.stub.php as JSON, from Reflection. Run it where neither
 * door is loaded (php -n): the stub would redeclare them. ApiSurfaceTest compares it with
 * surface_lib.php's description of the door loaded in the test process.
 */

declare(strict_types=1);

require __DIR__ . '/surface_lib.php';

if (($argv[1] ?? '') !== 'stub') {
    fwrite(STDERR, "usage: surface.php stub\n");
    exit(2);
}
$before = get_declared_classes();
$beforeFunctions = get_defined_functions()['user'];
require dirname(__DIR__, 2) . '/goldplan.stub.php';
$classes = array_values(array_filter(array_diff(get_declared_classes(), $before), fn ($c) => str_starts_with($c, 'GoldPlan\\')));
$functions = array_values(array_diff(get_defined_functions()['user'], $beforeFunctions));
echo json_encode(GoldPlan\Tests\Tools\describe($classes, $functions), JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES), "\n";
