<?php
/*
 * test.php — the xvps WHMCS module (integrations/whmcs/modules/servers/xvps/xvps.php) under
 * php-cli against a running xvpsd (tests/whmcs/run.sh starts it and passes, in the environment,
 * XVPS_TEST_URL, the API keys XVPS_BILLING_KEY (billing scope only), XVPS_NOBILLING_KEY (every
 * scope but billing) and XVPS_CHECK_KEY (every scope, for the checks), and the ids
 * XVPS_TEST_PLAN, XVPS_TEST_PLAN2 and XVPS_TEST_TEMPLATE). Each module function is called with
 * the $params array WHMCS passes (developers.whmcs.com, "Module Parameters"); each step asserts
 * what it returns AND its effect in the panel, read through the API. Prints "whmcs: ok ..." per
 * step; exits 1 at the first failure.
 */

require __DIR__ . '/shim.php';
require __DIR__ . '/../../integrations/whmcs/modules/servers/xvps/xvps.php';

$url = getenv('XVPS_TEST_URL');
$u = parse_url($url);
$checkKey = getenv('XVPS_CHECK_KEY');

function fail($msg)
{
    fwrite(STDERR, "whmcs: FAILED: $msg\n");
    exit(1);
}

function ok($msg)
{
    echo "whmcs: ok $msg\n";
}

function check($cond, $msg)
{
    if (!$cond) {
        fail($msg);
    }
}

/* One request to the panel for the checks: [status, decoded body, headers]. */
function http($method, $path, $body = null, $headers = [])
{
    global $url, $checkKey;
    $ch = curl_init($url . $path);
    $h = $headers;
    if ($checkKey && !array_filter($h, function ($x) { return stripos($x, 'Cookie:') === 0; })) {
        $h[] = 'Authorization: Bearer ' . $checkKey;
    }
    if ($body !== null) {
        $h[] = 'Content-Type: application/json';
        curl_setopt($ch, CURLOPT_POSTFIELDS, json_encode($body));
    }
    curl_setopt_array($ch, [CURLOPT_CUSTOMREQUEST => $method, CURLOPT_RETURNTRANSFER => true,
        CURLOPT_HEADER => true, CURLOPT_HTTPHEADER => $h, CURLOPT_TIMEOUT => 30]);
    $raw = curl_exec($ch);
    if ($raw === false) {
        fail("$method $path: " . curl_error($ch));
    }
    $status = curl_getinfo($ch, CURLINFO_RESPONSE_CODE);
    $hsize = curl_getinfo($ch, CURLINFO_HEADER_SIZE);
    curl_close($ch);
    return [$status, json_decode(substr($raw, $hsize), true), substr($raw, 0, $hsize)];
}

function wait_for($what, $fn, $seconds = 90, $why = null)
{
    $end = microtime(true) + $seconds;
    while (microtime(true) < $end) {
        if ($fn()) {
            return;
        }
        usleep(200000);
    }
    fail("timed out waiting for $what" . ($why ? ': ' . $why() : ''));
}

function count_of($path)
{
    list($s, $d) = http('GET', $path . (strpos($path, '?') ? '&' : '?') . 'limit=1000');
    check($s === 200, "GET $path: $s");
    return count($d);
}

/* The $params WHMCS passes to a server module's functions (serverid 1, service 7001). */
function params($key, array $over = [])
{
    global $u;
    $p = [
        'accountid' => 7001, 'serviceid' => 7001, 'userid' => 31, 'pid' => 5, 'serverid' => 1,
        'domain' => 'whmcs7001.example.net', 'username' => 'whmcs7001',
        'password' => 'Wh7001pass', 'producttype' => 'server', 'moduletype' => 'xvps',
        'configoption1' => getenv('XVPS_TEST_PLAN'), 'configoption2' => getenv('XVPS_TEST_TEMPLATE'),
        'configoption3' => 'vps.example.net',
        'customfields' => [], 'configoptions' => [],
        'clientsdetails' => ['userid' => 31, 'id' => 31, 'firstname' => 'Ada',
            'lastname' => 'Lovelace', 'email' => 'ada7001@example.net', 'country' => 'GB'],
        'server' => true, 'serverip' => $u['host'], 'serverhostname' => $u['host'],
        'serverport' => (string)$u['port'], 'serverusername' => '', 'serverpassword' => '',
        'serveraccesshash' => $key, 'serversecure' => false,
    ];
    return array_merge($p, $over);
}

$bill = getenv('XVPS_BILLING_KEY');
$svc = '/api/v1/billing/services/7001';

/* ---- test connection, wrong keys -------------------------------------------------------- */
$r = xvps_TestConnection(params($bill));
check($r === ['success' => true, 'error' => ''], 'TestConnection: ' . json_encode($r));
ok('TestConnection with the billing key succeeds');

$wrong = 'xvps_' . str_repeat('0', 64);
$r = xvps_TestConnection(params($wrong));
check($r['success'] === false && strpos($r['error'], 'HTTP 401') !== false,
    'TestConnection with a wrong key: ' . json_encode($r));
$customers = count_of('/api/v1/customers');
$vpsCount = count_of('/api/v1/vps');
$r = xvps_CreateAccount(params($wrong));
check(is_string($r) && $r !== 'success' && strpos($r, 'HTTP 401') !== false,
    'CreateAccount with a wrong key: ' . var_export($r, true));
ok("a wrong API key gives the error string: $r");

$r = xvps_CreateAccount(params(getenv('XVPS_NOBILLING_KEY')));
check(is_string($r) && strpos($r, 'HTTP 403') !== false && strpos($r, '"billing"') !== false,
    'CreateAccount without the billing scope: ' . var_export($r, true));
list($s) = http('GET', $svc);
check($s === 404, "a refused CreateAccount made the service: $s");
check(count_of('/api/v1/customers') === $customers && count_of('/api/v1/vps') === $vpsCount,
    'a refused CreateAccount changed something');
ok("a key without the billing scope is refused, nothing changed: $r");

$r = xvps_TestConnection(params('', ['serverhostname' => '127.0.0.1', 'serverip' => '127.0.0.1',
    'serverport' => '1']));
check($r['success'] === false && strpos($r['error'], 'cannot reach') !== false,
    'TestConnection to a closed port: ' . json_encode($r));
ok('an unreachable panel gives the error string');

/* ---- create, idempotent ----------------------------------------------------------------- */
$r = xvps_CreateAccount(params($bill));
check($r === 'success', "CreateAccount: $r");
list($s, $d) = http('GET', $svc);
check($s === 200 && $d['status'] === 'active', "GET service: $s " . json_encode($d));
$vps = $d['vps_id'];
$cust = $d['customer']['id'];
check($d['customer']['username'] === 'whmcs7001' && $d['customer']['email'] === 'ada7001@example.net',
    'customer: ' . json_encode($d['customer']));
wait_for('the VPS to run', function () use ($vps) {
    list($s, $d) = http('GET', "/api/v1/vps/$vps");
    return $s === 200 && $d['state'] === 'running';
});
list($s, $d) = http('GET', "/api/v1/vps/$vps");
check($d['hostname'] === 'whmcs7001.example.net' && $d['customer'] === $cust
    && $d['plan'] === getenv('XVPS_TEST_PLAN'), 'VPS: ' . json_encode($d));
check(count_of('/api/v1/customers') === $customers + 1 && count_of('/api/v1/vps') === $vpsCount + 1,
    'CreateAccount did not make exactly one customer and one VPS');
ok("CreateAccount made customer $cust and VPS $vps, running");

$r = xvps_CreateAccount(params($bill));
check($r === 'success', "second CreateAccount: $r");
check(count_of('/api/v1/customers') === $customers + 1 && count_of('/api/v1/vps') === $vpsCount + 1,
    'a second CreateAccount made something new');
list(, $d) = http('GET', $svc);
check($d['vps_id'] === $vps, 'a second CreateAccount changed the service');
ok('a second CreateAccount for the same service id creates nothing new');

$r = xvps_CreateAccount(params($bill, ['domain' => 'other7001.example.net']));
check(is_string($r) && strpos($r, 'HTTP 409') !== false, "CreateAccount, other parameters: $r");
check(count_of('/api/v1/vps') === $vpsCount + 1, 'a conflicting CreateAccount made a VPS');
ok("the same service id with other parameters: $r");

/* ---- suspend, unsuspend ----------------------------------------------------------------- */
$r = xvps_SuspendAccount(params($bill, ['suspendreason' => 'Overdue on Payment']));
check($r === 'success', "SuspendAccount: $r");
wait_for('the VPS to be suspended', function () use ($vps) {
    list(, $d) = http('GET', "/api/v1/vps/$vps");
    return $d['state'] === 'suspended' && $d['suspension']['reason'] === 'Overdue on Payment';
});
list(, $d) = http('GET', $svc);
check($d['status'] === 'suspended', 'service status: ' . $d['status']);
ok('SuspendAccount suspends the VPS with WHMCS\'s reason');

$r = xvps_UnsuspendAccount(params($bill));
check($r === 'success', "UnsuspendAccount: $r");
wait_for('the VPS to run again', function () use ($vps) {
    list(, $d) = http('GET', "/api/v1/vps/$vps");
    return $d['state'] === 'running' && $d['suspension'] === null;
});
ok('UnsuspendAccount lifts it and the VPS runs again');

/* ---- password, single sign-on ----------------------------------------------------------- */
$r = xvps_ChangePassword(params($bill, ['password' => 'short']));
check(is_string($r) && strpos($r, 'HTTP 422') !== false && strpos($r, 'password') !== false,
    "ChangePassword with a short password: $r");
$r = xvps_ChangePassword(params($bill, ['password' => 'N3w-Wh7001-pass']));
check($r === 'success', "ChangePassword: $r");
$checkKeySaved = $checkKey;
$checkKey = null;
list($s) = http('POST', '/api/v1/session', ['username' => 'whmcs7001', 'password' => 'N3w-Wh7001-pass']);
check($s === 201, "login with the new password: $s");
list($s) = http('POST', '/api/v1/session', ['username' => 'whmcs7001', 'password' => 'Wh7001pass']);
check($s === 401, "login with the old password: $s");
ok('ChangePassword: the new password logs in, the old one does not, a short one is refused');

$r = xvps_ServiceSingleSignOn(params($bill));
check($r['success'] === true && strpos($r['redirectTo'], $url . '/sso?token=') === 0,
    'ServiceSingleSignOn: ' . json_encode($r));
$path = substr($r['redirectTo'], strlen($url));
list($s, , $h) = http('GET', $path);
check($s === 303 && preg_match('/^Location: \/\r?$/mi', $h), "first use of the link: $s $h");
check(preg_match('/^Set-Cookie: xvps_session=([0-9a-f]{64});/mi', $h, $m), "no session cookie: $h");
list($s, $d) = http('GET', '/api/v1/me', null, ['Cookie: xvps_session=' . $m[1]]);
check($s === 200 && $d['username'] === 'whmcs7001' && $d['role'] === 'customer',
    "the SSO session: $s " . json_encode($d));
list($s) = http('GET', $path);
check($s === 401, "second use of the link: $s");
$checkKey = $checkKeySaved;
list(, $d) = http('GET', '/api/v1/audit?resource=user/' . $cust . '&limit=100');
check(in_array('sso.login', array_column($d, 'action'), true), 'no sso.login in the audit log');
ok('ServiceSingleSignOn: the link logs the customer in once; the second use is refused');

/* ---- usage, client area ----------------------------------------------------------------- */
wait_for('CPU time in the ledger', function () use ($svc) {
    list(, $d) = http('GET', "$svc/usage");
    return $d['cpu_ns'] > 0 && $d['disk_gib_s'] > 0;
});
$GLOBALS['shim_updates'] = [];
$r = xvps_UsageUpdate(params($bill));
check($r === 'success', "UsageUpdate: $r");
list(, $usage) = http('GET', '/api/v1/billing/usage');
$mine = array_values(array_filter($usage, function ($x) { return $x['service'] === '7001'; }));
check(count($mine) === 1, 'GET /billing/usage: ' . json_encode($usage));
$row = null;
foreach ($GLOBALS['shim_updates'] as $upd) {
    if ($upd['table'] === 'tblhosting' && $upd['where'] == ['server' => 1, 'id' => 7001]) {
        $row = $upd['values'];
    }
}
check($row !== null, 'UsageUpdate wrote no tblhosting row: ' . json_encode($GLOBALS['shim_updates']));
list(, $plan) = http('GET', '/api/v1/plans/' . getenv('XVPS_TEST_PLAN'));
check($row['disklimit'] === $plan['disk_gib'] * 1024 && $row['diskusage'] === $plan['disk_gib'] * 1024
    && $row['bwlimit'] === $plan['traffic_gib'] * 1024
    && $row['bwusage'] === intdiv($mine[0]['traffic_bytes'], 1048576)
    && $row['lastupdate'] instanceof WHMCS\Database\ShimRaw, 'tblhosting values: ' . json_encode($row));
check($mine[0]['cpu_ns'] > 0 && $mine[0]['cpu_hours'] > 0, 'usage: ' . json_encode($mine[0]));
ok('UsageUpdate wrote tblhosting (disk ' . $row['diskusage'] . ' MB, bw ' . $row['bwusage']
    . ' MB) from usage with cpu_ns ' . $mine[0]['cpu_ns']);

$r = xvps_ClientArea(params($bill));
check($r['tabOverviewReplacementTemplate'] === 'templates/overview.tpl'
    && $r['templateVariables']['vps']['hostname'] === 'whmcs7001.example.net'
    && $r['templateVariables']['error'] === null, 'ClientArea: ' . json_encode($r));
ok('ClientArea shows the VPS');

/* ---- change package ------------------------------------------------------------------- */
$plan2 = getenv('XVPS_TEST_PLAN2');
$r = xvps_ChangePackage(params($bill, ['configoption1' => $plan2]));
check($r === 'success', "ChangePackage: $r");
$seen = '';
wait_for('the new plan to reach the host', function () use ($vps, $plan2, &$seen) {
    list(, $d) = http('GET', "/api/v1/vps/$vps");
    list(, $jobs) = http('GET', "/api/v1/jobs?vps=$vps&limit=1000");
    $busy = array_filter((array)$jobs, function ($j) {
        return $j['state'] !== 'done';
    });
    list(, $au) = http('GET', "/api/v1/audit?resource=vps/$vps&limit=5");
    $seen = json_encode([$d['plan'], $d['disk_gib'], $jobs[0] ?? null, $au]);
    return $d['plan'] === $plan2 && $d['disk_gib'] === 4 && !$busy;
}, 60, function () use (&$seen) { return $seen; });
list(, $d) = http('GET', $svc);
check($d['vps']['plan'] === $plan2, 'service after ChangePackage: ' . json_encode($d));
ok("ChangePackage moved the VPS to plan $plan2 (disk 4 GiB)");

$r = xvps_ChangePackage(params($bill));
check(is_string($r) && strpos($r, 'HTTP 422') !== false && strpos($r, '(field plan)') !== false,
    "ChangePackage to a plan with a smaller disk: $r");
list(, $d) = http('GET', "/api/v1/vps/$vps");
check($d['plan'] === $plan2, 'a refused downgrade changed the plan: ' . json_encode($d));
ok("a downgrade to a smaller disk is refused with the reason: $r");

/* ---- terminate -------------------------------------------------------------------------- */
$r = xvps_TerminateAccount(params($bill));
check($r === 'success', "TerminateAccount: $r");
wait_for('the VPS to be gone', function () use ($vps) {
    list($s) = http('GET', "/api/v1/vps/$vps");
    return $s === 404;
});
list($s, $d) = http('GET', "/api/v1/customers/$cust");
check($s === 200, "the customer went with the service: $s");
list(, $d) = http('GET', $svc);
check($d['status'] === 'terminated' && $d['vps'] === null, 'service: ' . json_encode($d));
$r = xvps_SuspendAccount(params($bill));
check(is_string($r) && strpos($r, 'HTTP 409') !== false, "SuspendAccount after termination: $r");
ok('TerminateAccount deletes the VPS and keeps the customer');

/* ---- the module's log never holds the key or a password --------------------------------- */
foreach ($GLOBALS['shim_log'] as $l) {
    check(strpos($l['text'], $bill) === false && strpos($l['text'], 'N3w-Wh7001-pass') === false,
        'a secret in logModuleCall: ' . $l['text']);
}
ok(count($GLOBALS['shim_log']) . ' logged module calls hold no API key and no password');
echo "whmcs: all steps passed\n";
