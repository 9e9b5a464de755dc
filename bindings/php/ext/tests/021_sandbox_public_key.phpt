--TEST--
goldplan: every Client operation against the sandbox in public_key mode
--EXTENSIONS--
goldplan
--FILE--
<?php
require __DIR__ . '/operations.inc';
run_operations('public_key');
done();
?>
--EXPECT--
done
