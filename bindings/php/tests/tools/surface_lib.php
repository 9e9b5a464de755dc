<?php

/** Reflection of goldplan's public API as plain arrays (see surface.php). */

declare(strict_types=1);

namespace GoldPlan\Tests\Tools;

use ReflectionClass;
use ReflectionFunction;
use ReflectionFunctionAbstract;
use ReflectionMethod;

function describe_function(ReflectionFunctionAbstract $f): array
{
    $params = [];
    foreach ($f->getParameters() as $p) {
        $params[] = [
            'name' => $p->getName(),
            'type' => (string) $p->getType(),
            'optional' => $p->isOptional(),
            'default' => $p->isDefaultValueAvailable() ? var_export($p->getDefaultValue(), true) : null,
            'variadic' => $p->isVariadic(),
            'by_ref' => $p->isPassedByReference(),
        ];
    }
    return [
        'params' => $params,
        'return' => (string) ($f->getReturnType() ?? ''),
        'static' => $f instanceof ReflectionMethod && $f->isStatic(),
        'visibility' => $f instanceof ReflectionMethod ? ($f->isPublic() ? 'public' : ($f->isProtected() ? 'protected' : 'private')) : 'public',
    ];
}

function describe_class(string $name): array
{
    $c = new ReflectionClass($name);
    $methods = [];
    foreach ($c->getMethods() as $m) {
        // Own API only: what Exception brings is PHP's, and the package's magic methods
        // (__clone, __serialize, __destruct, …) stand for the extension's class flags.
        if ($m->getDeclaringClass()->getName() !== $c->getName() && !str_starts_with($m->getDeclaringClass()->getName(), 'GoldPlan\\')) {
            continue;
        }
        if ($m->isPrivate() || (str_starts_with($m->getName(), '__') && $m->getName() !== '__construct')) {
            continue;
        }
        $methods[$m->getName()] = describe_function($m);
    }
    ksort($methods);
    $properties = [];
    foreach ($c->getProperties() as $p) {
        if ($p->isPrivate() || !str_starts_with($p->getDeclaringClass()->getName(), 'GoldPlan\\')) {
            continue;
        }
        $properties[$p->getName()] = [
            'type' => (string) $p->getType(),
            'default' => $p->hasDefaultValue() ? var_export($p->getDefaultValue(), true) : null,
            'visibility' => $p->isPublic() ? 'public' : 'protected',
            'static' => $p->isStatic(),
        ];
    }
    ksort($properties);
    $constants = [];
    foreach ($c->getReflectionConstants() as $k) {
        if ($k->getDeclaringClass()->getName() === $c->getName()) {
            $constants[$k->getName()] = var_export($k->getValue(), true);
        }
    }
    return [
        'final' => $c->isFinal(),
        'abstract' => $c->isAbstract(),
        'parent' => $c->getParentClass() ? $c->getParentClass()->getName() : null,
        'interfaces' => array_values(array_filter($c->getInterfaceNames(), fn ($i) => $i !== 'Stringable' && $i !== 'Throwable')),
        'methods' => $methods,
        'properties' => $properties,
        'constants' => $constants,
    ];
}

/**
 * @param list<string> $classes
 * @param list<string> $functions
 */
function describe(array $classes, array $functions = ['goldplan\\version']): array
{
    sort($classes);
    $out = ['classes' => [], 'functions' => []];
    foreach ($classes as $class) {
        $out['classes'][$class] = describe_class($class);
    }
    foreach ($functions as $function) {
        $out['functions'][$function] = describe_function(new ReflectionFunction($function));
    }
    return $out;
}
