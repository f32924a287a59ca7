<?php
/*
 * shim.php — the few WHMCS pieces the xvps module calls, for tests/whmcs/test.php under php-cli:
 * the WHMCS constant, logModuleCall() and WHMCS\Database\Capsule's table()->where()->update()
 * and raw(). There is no WHMCS database here: updates are recorded in $GLOBALS['shim_updates']
 * (table, where clauses, values) for the test to check, and logged calls in
 * $GLOBALS['shim_log']. Nothing here stands in for xvps: the module talks to a real xvpsd.
 */

namespace WHMCS\Database {
    class ShimRaw
    {
        public $sql;

        public function __construct($sql)
        {
            $this->sql = $sql;
        }
    }

    class ShimQuery
    {
        private $table;
        private $wheres = [];

        public function __construct($table)
        {
            $this->table = $table;
        }

        public function where($column, $value)
        {
            $this->wheres[$column] = $value;
            return $this;
        }

        public function update(array $values)
        {
            $GLOBALS['shim_updates'][] = ['table' => $this->table, 'where' => $this->wheres,
                'values' => $values];
            return 1;
        }
    }

    class Capsule
    {
        public static function table($name)
        {
            return new ShimQuery($name);
        }

        public static function raw($sql)
        {
            return new ShimRaw($sql);
        }
    }
}

namespace {
    define('WHMCS', true);
    $GLOBALS['shim_updates'] = [];
    $GLOBALS['shim_log'] = [];

    function logModuleCall($module, $action, $request, $response, $processed = null, $replace = [])
    {
        $text = json_encode([$action, $request]) . ' ' . (string)$response;
        foreach ((array)$replace as $secret) {
            if ((string)$secret !== '') {
                $text = str_replace((string)$secret, '***', $text);
            }
        }
        $GLOBALS['shim_log'][] = ['module' => $module, 'action' => $action, 'text' => $text];
    }
}
