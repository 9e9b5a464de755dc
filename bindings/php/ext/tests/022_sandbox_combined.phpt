--TEST--
goldplan: every Client operation against the sandbox in combined mode
--EXTENSIONS--
goldplan
--FILE--
<?php
require __DIR__ . '/operations.inc';
run_operations('combined');
done();
?>
--EXPECT--
done
