--TEST--
goldplan: every Client operation against the sandbox in certificate mode
--EXTENSIONS--
goldplan
--FILE--
<?php
require __DIR__ . '/operations.inc';
run_operations('certificate');
done();
?>
--EXPECT--
done
