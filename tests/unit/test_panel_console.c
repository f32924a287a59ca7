/* test_panel_console.c — the pure parts of xvpsd's browser consoles (panel/console.c): the
 * WebSocket handshake (Sec-WebSocket-Key validation, Sec-WebSocket-Accept against RFC 6455's
 * own example), header token lists, the same-origin check and the console token's shape, plus
 * the static file types noVNC needs. The network side is tests/api/api_console.c. */
#include <criterion/criterion.h>
#include <string.h>

#include "../../panel/console.h"
#include "../../panel/http_internal.h"

Test(ws_handshake, accept_key_of_the_rfc_6455_example)
{
	char out[WS_ACCEPT_CHARS + 1];

	/* RFC 6455 §1.3 */
	cr_assert(ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", out));
	cr_assert_str_eq(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
	/* Another key gives another answer. */
	cr_assert(ws_accept_key("AAAAAAAAAAAAAAAAAAAAAA==", out));
	cr_assert_str_neq(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
	cr_assert_eq(strlen(out), WS_ACCEPT_CHARS);
}

Test(ws_handshake, keys_must_be_base64_of_16_bytes)
{
	char out[WS_ACCEPT_CHARS + 1] = "x";

	cr_assert(ws_key_valid("dGhlIHNhbXBsZSBub25jZQ=="));
	cr_assert_not(ws_key_valid(NULL));
	cr_assert_not(ws_key_valid(""));
	cr_assert_not(ws_key_valid("dGhlIHNhbXBsZSBub25jZQ"));     /* no padding */
	cr_assert_not(ws_key_valid("dGhlIHNhbXBsZSBub25jZQ=== ")); /* too long */
	cr_assert_not(ws_key_valid("dGhlIHNhbXBsZSBub25jZ!=="));   /* not base64 */
	cr_assert_not(ws_key_valid("dGhlIHNhbXBsZSBub25jZXg="));   /* 17 bytes */
	cr_assert_not(ws_key_valid("dGhlIHNhbXBsZSBub25j\nQ=="));
	cr_assert_not(ws_accept_key("not a key", out));
	cr_assert_str_eq(out, "");
}

Test(ws_handshake, header_token_lists)
{
	cr_assert(http_list_has_token("Upgrade", "upgrade"));
	cr_assert(http_list_has_token("keep-alive, Upgrade", "upgrade"));
	cr_assert(http_list_has_token(" websocket ,x", "websocket"));
	cr_assert(http_list_has_token("binary,base64", "binary"));
	cr_assert_not(http_list_has_token("keep-alive", "upgrade"));
	cr_assert_not(http_list_has_token("upgrades", "upgrade"));
	cr_assert_not(http_list_has_token("x-upgrade", "upgrade"));
	cr_assert_not(http_list_has_token("", "upgrade"));
	cr_assert_not(http_list_has_token(NULL, "upgrade"));
	cr_assert_not(http_list_has_token(",,", "upgrade"));
}

Test(console_origin, only_the_servers_own_origin)
{
	cr_assert(console_origin_ok("http://127.0.0.1:8080", "127.0.0.1:8080", false));
	cr_assert(console_origin_ok("http://Panel.Example.NET", "panel.example.net", false));
	cr_assert(console_origin_ok("http://panel.example.net", "panel.example.net:80", false));
	cr_assert(console_origin_ok("http://panel.example.net:80", "panel.example.net", false));
	cr_assert(console_origin_ok("https://panel.example.net", "panel.example.net:443", true));
	cr_assert(console_origin_ok("http://[::1]:8080", "[::1]:8080", false));

	cr_assert_not(console_origin_ok("http://evil.example", "panel.example.net", false));
	cr_assert_not(console_origin_ok("http://127.0.0.1:8081", "127.0.0.1:8080", false));
	cr_assert_not(console_origin_ok("https://127.0.0.1:8080", "127.0.0.1:8080", false));
	cr_assert_not(console_origin_ok("http://panel.example.net", "panel.example.net", true));
	cr_assert_not(console_origin_ok("http://panel.example.net:443", "panel.example.net", true));
	cr_assert_not(
	        console_origin_ok("http://panel.example.net.evil", "panel.example.net", false));
	cr_assert_not(console_origin_ok("http://panel.example.net/", "panel.example.net", false));
	cr_assert_not(console_origin_ok("http://a@panel.example.net", "panel.example.net", false));
	cr_assert_not(console_origin_ok("null", "panel.example.net", false));
	cr_assert_not(console_origin_ok("http://", "", false));
	cr_assert_not(console_origin_ok(NULL, "panel.example.net", false));
	cr_assert_not(console_origin_ok("http://panel.example.net", NULL, false));
	/* A Host with junk cannot be matched by an Origin carrying the same junk. */
	cr_assert_not(console_origin_ok("http://a b", "a b", false));
}

Test(console_token, shape)
{
	cr_assert(console_token_shape_ok("34glRXCjzmBpiHyFN_I9bcIzxdEAGd9nfOCwAivvYYE"));
	cr_assert(console_token_shape_ok("-------------------------------------------"));
	cr_assert_not(console_token_shape_ok("34glRXCjzmBpiHyFN_I9bcIzxdEAGd9nfOCwAivvYY"));
	cr_assert_not(console_token_shape_ok("34glRXCjzmBpiHyFN_I9bcIzxdEAGd9nfOCwAivvYYEx"));
	cr_assert_not(console_token_shape_ok("34glRXCjzmBpiHyFN+I9bcIzxdEAGd9nfOCwAivvYYE"));
	cr_assert_not(console_token_shape_ok("34glRXCjzmBpiHyFN_I9bcIzxdEAGd9nfOCwAivvYY="));
	cr_assert_not(console_token_shape_ok(""));
	cr_assert_not(console_token_shape_ok(NULL));
}

Test(static_types, what_novnc_needs)
{
	cr_assert_str_eq(static_content_type("/core/rfb.js"), "text/javascript; charset=utf-8");
	cr_assert_str_eq(static_content_type("/app/sounds/bell.oga"), "audio/ogg");
	cr_assert_str_eq(static_content_type("/app/sounds/bell.mp3"), "audio/mpeg");
	cr_assert_str_eq(static_content_type("/app/styles/Orbitron700.ttf"), "font/ttf");
	cr_assert_str_eq(static_content_type("/app/styles/Orbitron700.woff"), "font/woff");
	cr_assert_str_eq(static_content_type("/app/locale/de.json"), "application/json");
	cr_assert_str_eq(static_content_type("/app/images/icons/novnc.svg"), "image/svg+xml");
}
