<?php
/*
 * xvps — a WHMCS provisioning (server) module for xvps, the Xen VPS hosting panel.
 *
 * It calls only xvps's billing-system module API (/api/v1/billing/..., docs/openapi.yaml) with
 * the WHMCS server's API key, which needs the "billing" scope. One WHMCS service is one xvps
 * service: a customer (the service's username, password and the client's e-mail) and one VPS
 * (the product's plan and template). The service id is WHMCS's tblhosting.id, so a retried
 * CreateAccount creates nothing new. Every function answers "success" or an error string (or
 * the array WHMCS documents for it) and never lets an exception out. See README.md beside the
 * modules/ directory for installation.
 */

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

use WHMCS\Database\Capsule;

const XVPS_TIMEOUT_S = 30;

function xvps_MetaData()
{
    return [
        'DisplayName' => 'xvps',
        'APIVersion' => '1.1',
        'RequiresServer' => true,
        'DefaultNonSSLPort' => '8080',
        'DefaultSSLPort' => '443',
        'ServiceSingleSignOnLabel' => 'Log in to the VPS panel',
    ];
}

/* The product's module settings: configoption1 .. configoption3. */
function xvps_ConfigOptions()
{
    return [
        'Plan' => [
            'Type' => 'text',
            'Size' => '10',
            'Description' => 'xvps plan id (GET /api/v1/plans)',
        ],
        'Template' => [
            'Type' => 'text',
            'Size' => '10',
            'Description' => 'xvps template id (GET /api/v1/templates)',
        ],
        'Hostname suffix' => [
            'Type' => 'text',
            'Size' => '40',
            'Default' => 'vps.invalid',
            'Description' => 'when the order has no valid domain, the VPS is named svc<service id>.<suffix>',
        ],
    ];
}

/* ---- the API client ------------------------------------------------------------------------- */

/* The panel's base URL from the server's settings: https://host[:port] or http://. */
function xvps_base_url(array $params)
{
    $host = trim((string)($params['serverhostname'] ?? ''));
    if ($host === '') {
        $host = trim((string)($params['serverip'] ?? ''));
    }
    if (strpos($host, ':') !== false && strpos($host, '[') === false) {
        $host = '[' . $host . ']'; /* an IPv6 literal */
    }
    $secure = !empty($params['serversecure']) && $params['serversecure'] !== 'off';
    $port = (string)($params['serverport'] ?? '');
    return ($secure ? 'https' : 'http') . '://' . $host . ($port !== '' ? ':' . $port : '');
}

/* The server's API key: the Access Hash field, else the Password field. */
function xvps_api_key(array $params)
{
    $key = trim((string)($params['serveraccesshash'] ?? ''));
    return $key !== '' ? $key : trim((string)($params['serverpassword'] ?? ''));
}

/*
 * One API call. Returns [status, decoded body (array or null), error string or null]; the error
 * is set for a transport failure and for any status >= 400 (the problem's detail).
 */
function xvps_call(array $params, $method, $path, $body = null)
{
    $url = xvps_base_url($params) . '/api/v1' . $path;
    $headers = ['Authorization: Bearer ' . xvps_api_key($params), 'Accept: application/json'];
    $ch = curl_init($url);
    curl_setopt($ch, CURLOPT_CUSTOMREQUEST, $method);
    curl_setopt($ch, CURLOPT_RETURNTRANSFER, true);
    curl_setopt($ch, CURLOPT_TIMEOUT, XVPS_TIMEOUT_S);
    curl_setopt($ch, CURLOPT_FOLLOWLOCATION, false);
    curl_setopt($ch, CURLOPT_PROTOCOLS, CURLPROTO_HTTP | CURLPROTO_HTTPS);
    if ($body !== null) {
        $headers[] = 'Content-Type: application/json';
        curl_setopt($ch, CURLOPT_POSTFIELDS, json_encode($body));
    }
    curl_setopt($ch, CURLOPT_HTTPHEADER, $headers);
    $raw = curl_exec($ch);
    $status = (int)curl_getinfo($ch, CURLINFO_RESPONSE_CODE);
    $curlError = curl_error($ch);
    curl_close($ch);
    if (function_exists('logModuleCall')) {
        $logged = $body;
        if (is_array($logged) && isset($logged['password'])) {
            $logged['password'] = '********';
        }
        logModuleCall('xvps', $method . ' ' . $path, $logged, $raw, null,
            [xvps_api_key($params), $params['password'] ?? '']);
    }
    if ($raw === false) {
        return [0, null, 'xvps: cannot reach ' . xvps_base_url($params) . ': ' . $curlError];
    }
    $data = $raw === '' ? null : json_decode($raw, true);
    if ($status >= 400) {
        $detail = is_array($data) && isset($data['detail']) ? $data['detail'] : 'no detail';
        if (is_array($data) && isset($data['field'])) {
            $detail .= ' (field ' . $data['field'] . ')';
        }
        return [$status, $data, 'xvps: HTTP ' . $status . ': ' . $detail];
    }
    return [$status, $data, null];
}

/* Runs fn and turns anything thrown into an error string. */
function xvps_guard($fn)
{
    try {
        return $fn();
    } catch (\Throwable $e) {
        return 'xvps: ' . $e->getMessage();
    }
}

function xvps_service_path(array $params)
{
    return '/billing/services/' . rawurlencode((string)$params['serviceid']);
}

/* xvps's user name rules: 3..32 of [a-z0-9_.-], starting with a letter. */
function xvps_username(array $params)
{
    $u = strtolower(trim((string)($params['username'] ?? '')));
    if (preg_match('/^[a-z][a-z0-9_.-]{2,31}$/', $u)) {
        return $u;
    }
    return 'svc' . (int)$params['serviceid'];
}

/* The order's domain when it is a valid lower-case hostname, else svc<id>.<suffix>. */
function xvps_hostname(array $params)
{
    $d = strtolower(trim((string)($params['domain'] ?? '')));
    $label = '[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?';
    if (strlen($d) <= 253 && preg_match('/^' . $label . '(\.' . $label . ')*$/', $d)) {
        return $d;
    }
    $suffix = strtolower(trim((string)($params['configoption3'] ?? '')));
    return 'svc' . (int)$params['serviceid'] . '.' . ($suffix !== '' ? $suffix : 'vps.invalid');
}

/* ---- the module functions WHMCS calls --------------------------------------------------------- */

function xvps_CreateAccount(array $params)
{
    return xvps_guard(function () use ($params) {
        $body = [
            'username' => xvps_username($params),
            'email' => (string)($params['clientsdetails']['email'] ?? ''),
            'password' => (string)($params['password'] ?? ''),
            'plan' => (string)($params['configoption1'] ?? ''),
            'template' => (string)($params['configoption2'] ?? ''),
            'hostname' => xvps_hostname($params),
        ];
        $key = trim((string)($params['customfields']['SSH Key'] ?? ''));
        if ($key !== '') {
            $body['ssh_keys'] = [$key];
        }
        list(, , $err) = xvps_call($params, 'PUT', xvps_service_path($params), $body);
        return $err ?? 'success';
    });
}

function xvps_SuspendAccount(array $params)
{
    return xvps_guard(function () use ($params) {
        $reason = trim((string)($params['suspendreason'] ?? ''));
        $body = ['reason' => $reason !== '' ? $reason : 'suspended by WHMCS'];
        list(, , $err) = xvps_call($params, 'POST', xvps_service_path($params) . '/suspend', $body);
        return $err ?? 'success';
    });
}

function xvps_UnsuspendAccount(array $params)
{
    return xvps_guard(function () use ($params) {
        $body = ['reason' => 'unsuspended by WHMCS'];
        list(, , $err) = xvps_call($params, 'POST', xvps_service_path($params) . '/unsuspend', $body);
        return $err ?? 'success';
    });
}

function xvps_TerminateAccount(array $params)
{
    return xvps_guard(function () use ($params) {
        list(, , $err) = xvps_call($params, 'DELETE', xvps_service_path($params));
        return $err ?? 'success';
    });
}

/* The product's plan (configoption1) after an upgrade or downgrade. */
function xvps_ChangePackage(array $params)
{
    return xvps_guard(function () use ($params) {
        $body = ['plan' => (string)($params['configoption1'] ?? '')];
        list($status, , $err) = xvps_call($params, 'POST', xvps_service_path($params) . '/plan', $body);
        if ($status === 404 || $status === 405) {
            return 'xvps: this xvps version cannot change a service\'s plan (' . $err . ')';
        }
        return $err ?? 'success';
    });
}

function xvps_ChangePassword(array $params)
{
    return xvps_guard(function () use ($params) {
        $body = ['password' => (string)($params['password'] ?? '')];
        list(, , $err) = xvps_call($params, 'POST', xvps_service_path($params) . '/password', $body);
        return $err ?? 'success';
    });
}

/*
 * The daily usage import (per server): one call for every service's usage of the current month,
 * then tblhosting's diskusage/disklimit/bwusage/bwlimit (MB) as WHMCS documents it. Disk usage is
 * the allocated disk (xvps does not look inside guests).
 */
function xvps_UsageUpdate(array $params)
{
    return xvps_guard(function () use ($params) {
        list(, $rows, $err) = xvps_call($params, 'GET', '/billing/usage');
        if ($err !== null) {
            return $err;
        }
        foreach ((array)$rows as $u) {
            if (!ctype_digit((string)($u['service'] ?? ''))) {
                continue; /* not a WHMCS service id */
            }
            Capsule::table('tblhosting')
                ->where('server', $params['serverid'])
                ->where('id', (int)$u['service'])
                ->update([
                    'diskusage' => (int)$u['disk_gib'] * 1024,
                    'disklimit' => (int)$u['disk_gib'] * 1024,
                    'bwusage' => intdiv((int)$u['traffic_bytes'], 1048576),
                    'bwlimit' => (int)$u['traffic_gib'] * 1024,
                    'lastupdate' => Capsule::raw('now()'),
                ]);
        }
        return 'success';
    });
}

function xvps_TestConnection(array $params)
{
    $r = xvps_guard(function () use ($params) {
        list(, $data, $err) = xvps_call($params, 'GET', '/billing/ping');
        if ($err === null && empty($data['ok'])) {
            $err = 'xvps: unexpected answer from /billing/ping';
        }
        return $err ?? 'success';
    });
    return ['success' => $r === 'success', 'error' => $r === 'success' ? '' : $r];
}

function xvps_ServiceSingleSignOn(array $params)
{
    $url = null;
    $r = xvps_guard(function () use ($params, &$url) {
        list(, $data, $err) = xvps_call($params, 'POST', xvps_service_path($params) . '/sso');
        if ($err === null && empty($data['url'])) {
            $err = 'xvps: no sign-on link in the answer';
        }
        if ($err === null) {
            $url = xvps_base_url($params) . $data['url'];
        }
        return $err ?? 'success';
    });
    if ($r !== 'success') {
        return ['success' => false, 'errorMsg' => $r];
    }
    return ['success' => true, 'redirectTo' => $url];
}

/* The client area's overview tab: the VPS's state and addresses (templates/overview.tpl). */
function xvps_ClientArea(array $params)
{
    $vars = ['error' => null, 'vps' => null];
    $r = xvps_guard(function () use ($params, &$vars) {
        list(, $data, $err) = xvps_call($params, 'GET', xvps_service_path($params));
        if ($err !== null) {
            return $err;
        }
        $vps = $data['vps'] ?? null;
        $vars['status'] = $data['status'] ?? '';
        if (is_array($vps)) {
            $vars['vps'] = [
                'hostname' => $vps['hostname'] ?? '',
                'state' => $vps['state'] ?? '',
                'ipv4' => implode(', ', $vps['ipv4'] ?? []),
                'ipv6' => implode(', ', $vps['ipv6'] ?? []),
                'vcpus' => $vps['vcpus'] ?? '',
                'memory_mib' => $vps['memory_mib'] ?? '',
                'disk_gib' => $vps['disk_gib'] ?? '',
            ];
        }
        return 'success';
    });
    if ($r !== 'success') {
        $vars['error'] = $r;
    }
    return [
        'tabOverviewReplacementTemplate' => 'templates/overview.tpl',
        'templateVariables' => $vars,
    ];
}
