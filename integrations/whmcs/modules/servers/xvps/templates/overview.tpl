{* xvps: the client area's overview of one service (xvps_ClientArea). *}
{if $error}
  <div class="alert alert-danger">{$error|escape}</div>
{elseif $vps}
  <table class="table">
    <tr><th>Hostname</th><td>{$vps.hostname|escape}</td></tr>
    <tr><th>State</th><td>{$vps.state|escape}{if $status eq 'suspended'} (suspended){/if}</td></tr>
    <tr><th>IPv4</th><td>{$vps.ipv4|escape}</td></tr>
    <tr><th>IPv6</th><td>{$vps.ipv6|escape}</td></tr>
    <tr><th>vCPUs / memory / disk</th><td>{$vps.vcpus|escape} / {$vps.memory_mib|escape} MiB / {$vps.disk_gib|escape} GiB</td></tr>
  </table>
{else}
  <p>This service has no VPS ({$status|escape}).</p>
{/if}
