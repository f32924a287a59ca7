/* routes.c — the REST API v1 route table (docs/openapi.yaml). http.c matches method and path,
 * enforces auth/role/CSRF and body rules from the flags here, then calls the handler. */

#include "api.h"
#include "api_images.h"
#include "http.h"
#include "rescue.h"

const route xvps_routes[] = {
        {"POST", "/api/v1/session", api_session_create, AUTH_NONE, BODY_JSON},
        {"DELETE", "/api/v1/session", api_session_delete, AUTH_USER, BODY_NONE},
        {"GET", "/api/v1/me", api_me, AUTH_USER, BODY_NONE},
        {"GET", "/api/v1/api-keys", api_keys_list, AUTH_USER, BODY_NONE},
        {"POST", "/api/v1/api-keys", api_keys_create, AUTH_USER, BODY_JSON},
        {"DELETE", "/api/v1/api-keys/{}", api_keys_delete, AUTH_USER, BODY_NONE},
        /* Accounts (issue 16 item 5): api_account.c, api_totp.c, api_reset.c. */
        {"POST", "/api/v1/session/totp", api_session_totp, AUTH_NONE, BODY_JSON},
        {"POST", "/api/v1/account/password", api_account_password, AUTH_USER, BODY_JSON},
        {"POST", "/api/v1/account/totp", api_totp_enrol, AUTH_USER, BODY_NONE},
        {"POST", "/api/v1/account/totp/confirm", api_totp_confirm, AUTH_USER, BODY_JSON},
        {"POST", "/api/v1/account/totp/disable", api_totp_disable, AUTH_USER, BODY_JSON},
        {"GET", "/api/v1/sessions", api_sessions_list, AUTH_USER, BODY_NONE},
        {"DELETE", "/api/v1/sessions/{}", api_sessions_delete, AUTH_USER, BODY_NONE},
        {"POST", "/api/v1/password-reset", api_reset_request, AUTH_NONE, BODY_JSON},
        {"POST", "/api/v1/password-reset/confirm", api_reset_confirm, AUTH_NONE, BODY_JSON},
        {"GET", "/api/v1/settings/accounts", api_account_settings_get, AUTH_ADMIN, BODY_NONE},
        {"PUT", "/api/v1/settings/accounts", api_account_settings_put, AUTH_ADMIN, BODY_JSON},
        {"GET", "/api/v1/settings/images", api_image_settings_get, AUTH_ADMIN, BODY_NONE},
        {"PUT", "/api/v1/settings/images", api_image_settings_put, AUTH_ADMIN, BODY_JSON},

        /* GET: customers read the plans offered to them (issue 16 item 8). */
        {"GET", "/api/v1/plans", api_plans_list, AUTH_USER, BODY_NONE},
        {"POST", "/api/v1/plans", api_plans_create, AUTH_ADMIN, BODY_JSON},
        {"GET", "/api/v1/plans/{}", api_plans_get, AUTH_USER, BODY_NONE},
        {"PATCH", "/api/v1/plans/{}", api_plans_patch, AUTH_ADMIN, BODY_JSON},
        {"DELETE", "/api/v1/plans/{}", api_plans_delete, AUTH_ADMIN, BODY_NONE},

        {"GET", "/api/v1/customers", api_customers_list, AUTH_ADMIN, BODY_NONE},
        {"POST", "/api/v1/customers", api_customers_create, AUTH_ADMIN, BODY_JSON},
        {"GET", "/api/v1/customers/{}", api_customers_get, AUTH_ADMIN, BODY_NONE},
        {"PATCH", "/api/v1/customers/{}", api_customers_patch, AUTH_ADMIN, BODY_JSON},
        {"DELETE", "/api/v1/customers/{}", api_customers_delete, AUTH_ADMIN, BODY_NONE},
        {"GET", "/api/v1/customers/{}/usage", api_customer_usage, AUTH_ADMIN, BODY_NONE},
        {"GET", "/api/v1/customers/{}/limits", api_customer_limits_get, AUTH_USER, BODY_NONE},
        {"PATCH", "/api/v1/customers/{}/limits", api_customer_limits_patch, AUTH_ADMIN, BODY_JSON},
        {"GET", "/api/v1/customers/{}/balance", api_customer_balance, AUTH_USER, BODY_NONE},
        {"PATCH", "/api/v1/customers/{}/billing", api_customer_billing_patch, AUTH_ADMIN,
         BODY_JSON},
        {"GET", "/api/v1/customers/{}/payments", api_customer_payments_list, AUTH_USER, BODY_NONE},
        {"POST", "/api/v1/customers/{}/payments", api_customer_payment_create, AUTH_ADMIN,
         BODY_JSON},
        {"POST", "/api/v1/customers/{}/invoices", api_customer_invoice_now, AUTH_ADMIN,
         BODY_OPTIONAL_JSON},
        {"GET", "/api/v1/customers/{}/draft-invoice", api_customer_draft_invoice, AUTH_USER,
         BODY_NONE},

        {"GET", "/api/v1/settings", api_settings_get, AUTH_ADMIN, BODY_NONE},
        {"PATCH", "/api/v1/settings", api_settings_patch, AUTH_ADMIN, BODY_JSON},
        {"GET", "/api/v1/invoices", api_invoices_list, AUTH_USER, BODY_NONE},
        {"GET", "/api/v1/invoices/{}", api_invoices_get, AUTH_USER, BODY_NONE},
        {"PATCH", "/api/v1/invoices/{}", api_invoices_change, AUTH_ADMIN, BODY_JSON},
        {"DELETE", "/api/v1/invoices/{}", api_invoices_change, AUTH_ADMIN, BODY_NONE},
        {"POST", "/api/v1/invoices/{}/credit-notes", api_invoice_credit_note, AUTH_ADMIN,
         BODY_JSON},

        {"GET", "/api/v1/templates", api_templates_list, AUTH_USER, BODY_NONE},
        {"POST", "/api/v1/templates", api_templates_create, AUTH_ADMIN, BODY_JSON},
        {"GET", "/api/v1/templates/{}", api_templates_get, AUTH_USER, BODY_NONE},
        {"DELETE", "/api/v1/templates/{}", api_templates_delete, AUTH_ADMIN, BODY_NONE},

        {"GET", "/api/v1/ip-pools", api_pools_list, AUTH_ADMIN, BODY_NONE},
        {"POST", "/api/v1/ip-pools", api_pools_create, AUTH_ADMIN, BODY_JSON},
        {"GET", "/api/v1/ip-pools/{}", api_pools_get, AUTH_ADMIN, BODY_NONE},
        {"DELETE", "/api/v1/ip-pools/{}", api_pools_delete, AUTH_ADMIN, BODY_NONE},
        {"PATCH", "/api/v1/ip-pools/{}", api_pools_patch, AUTH_ADMIN, BODY_JSON},

        {"GET", "/api/v1/vps", api_vps_list, AUTH_USER, BODY_NONE},
        {"POST", "/api/v1/vps", api_vps_create, AUTH_USER, BODY_JSON},
        {"GET", "/api/v1/vps/{}", api_vps_get, AUTH_USER, BODY_NONE},
        {"DELETE", "/api/v1/vps/{}", api_vps_delete, AUTH_USER, BODY_NONE},
        {"PATCH", "/api/v1/vps/{}", api_vps_patch, AUTH_USER, BODY_JSON},
        /* Before the generic action route: the first matching pattern wins. */
        {"POST", "/api/v1/vps/{}/actions/suspend", api_vps_suspend, AUTH_ADMIN, BODY_OPTIONAL_JSON},
        {"POST", "/api/v1/vps/{}/actions/unsuspend", api_vps_unsuspend, AUTH_ADMIN,
         BODY_OPTIONAL_JSON},
        {"POST", "/api/v1/vps/{}/actions/resize", api_vps_resize, AUTH_USER, BODY_JSON},
        {"POST", "/api/v1/vps/{}/actions/rescue", api_vps_rescue, AUTH_USER, BODY_OPTIONAL_JSON},
        {"POST", "/api/v1/vps/{}/actions/unrescue", api_vps_unrescue, AUTH_USER,
         BODY_OPTIONAL_JSON},
        {"POST", "/api/v1/vps/{}/actions/reset-password", api_vps_reset_password, AUTH_USER,
         BODY_OPTIONAL_JSON},
        {"POST", "/api/v1/vps/{}/actions/{}", api_vps_action, AUTH_USER, BODY_OPTIONAL_JSON},
        {"GET", "/api/v1/vps/{}/addresses", api_addresses_list, AUTH_USER, BODY_NONE},
        {"POST", "/api/v1/vps/{}/addresses", api_addresses_add, AUTH_ADMIN, BODY_JSON},
        {"DELETE", "/api/v1/vps/{}/addresses/{}", api_addresses_delete, AUTH_ADMIN, BODY_NONE},
        /* A routed prefix written as "2001:db8:1:2::/64" spans two segments. */
        {"DELETE", "/api/v1/vps/{}/addresses/{}/{}", api_addresses_delete, AUTH_ADMIN, BODY_NONE},
        /* Reverse DNS (issue 16 item 4): api_rdns.c. */
        {"GET", "/api/v1/vps/{}/rdns", api_rdns_list, AUTH_USER, BODY_NONE},
        {"PUT", "/api/v1/vps/{}/rdns/{}", api_rdns_put, AUTH_USER, BODY_JSON},
        {"DELETE", "/api/v1/vps/{}/rdns/{}", api_rdns_delete, AUTH_USER, BODY_NONE},
        {"GET", "/api/v1/settings/rdns", api_rdns_settings_get, AUTH_ADMIN, BODY_NONE},
        {"PUT", "/api/v1/settings/rdns", api_rdns_settings_put, AUTH_ADMIN, BODY_JSON},
        {"PUT", "/api/v1/vps/{}/throttle", api_throttle_set, AUTH_ADMIN, BODY_JSON},
        {"DELETE", "/api/v1/vps/{}/throttle", api_throttle_lift, AUTH_ADMIN, BODY_NONE},
        {"POST", "/api/v1/vps/{}/console", api_console_token, AUTH_USER, BODY_OPTIONAL_JSON},
        {"GET", "/api/v1/vps/{}/usage", api_vps_usage, AUTH_USER, BODY_NONE},
        {"POST", "/api/v1/vps/{}/quota/extra", api_quota_extra, AUTH_ADMIN, BODY_JSON},
        {"GET", "/api/v1/vps/{}/notices", api_vps_notices, AUTH_USER, BODY_NONE},
        {"GET", "/api/v1/notices", api_notices_list, AUTH_ADMIN, BODY_NONE},

        {"GET", "/api/v1/jobs", api_jobs_list, AUTH_USER, BODY_NONE},
        {"GET", "/api/v1/jobs/{}", api_jobs_get, AUTH_USER, BODY_NONE},
        {"GET", "/api/v1/audit", api_audit_list, AUTH_ADMIN, BODY_NONE},
        {"GET", "/api/v1/backups", api_backups_list, AUTH_ADMIN, BODY_NONE},
        {"POST", "/api/v1/backups", api_backups_create, AUTH_ADMIN, BODY_NONE},
        {"GET", "/api/v1/backups/{}", api_backups_get, AUTH_ADMIN, BODY_NONE},

        /* The billing-system module API (issue 14 item 4): API keys need the "billing"
         * scope here (http_route.c), sessions the admin role. */
        {"GET", "/api/v1/billing/ping", api_billing_ping, AUTH_ADMIN, BODY_NONE},
        {"GET", "/api/v1/billing/usage", api_billing_usage, AUTH_ADMIN, BODY_NONE},
        {"PUT", "/api/v1/billing/services/{}", api_billing_service_put, AUTH_ADMIN, BODY_JSON},
        {"GET", "/api/v1/billing/services/{}", api_billing_service_get, AUTH_ADMIN, BODY_NONE},
        {"DELETE", "/api/v1/billing/services/{}", api_billing_service_delete, AUTH_ADMIN,
         BODY_NONE},
        {"POST", "/api/v1/billing/services/{}/suspend", api_billing_suspend, AUTH_ADMIN, BODY_JSON},
        {"POST", "/api/v1/billing/services/{}/unsuspend", api_billing_unsuspend, AUTH_ADMIN,
         BODY_OPTIONAL_JSON},
        {"POST", "/api/v1/billing/services/{}/password", api_billing_password, AUTH_ADMIN,
         BODY_JSON},
        {"POST", "/api/v1/billing/services/{}/plan", api_billing_plan, AUTH_ADMIN, BODY_JSON},
        {"GET", "/api/v1/billing/services/{}/usage", api_billing_service_usage, AUTH_ADMIN,
         BODY_NONE},
        {"POST", "/api/v1/billing/services/{}/payments", api_billing_payment, AUTH_ADMIN,
         BODY_JSON},
        {"POST", "/api/v1/billing/services/{}/sso", api_billing_sso, AUTH_ADMIN,
         BODY_OPTIONAL_JSON},
        /* Single sign-on: the token in the query is the credential (api_module_account.c). */
        {"GET", "/sso", api_sso_login, AUTH_NONE, BODY_NONE},

        /* A WebSocket upgrade: the handler checks session, origin and token itself, in the
         * order of issue 6's contract, and audits every refusal. */
        {"GET", "/console/ws", api_console_ws, AUTH_NONE, BODY_NONE},
        {"GET", "/healthz", api_healthz, AUTH_NONE, BODY_NONE},
        {"GET", "/metrics", api_metrics, AUTH_NONE, BODY_NONE},
        {NULL, NULL, NULL, AUTH_NONE, BODY_NONE},
};

/* Answers with ETag / If-None-Match and kept in memory while the store does not change (issue 17
 * item 1; http_cache.h): only handlers that read nothing but the store, the user, the path and
 * the query (and the time to the minute), and never write. */
const route_fn xvps_etag_routes[] = {
        api_vps_list, api_vps_get, api_jobs_list, api_jobs_get, NULL,
};
