// check.mjs — docs/openapi.yaml against the OpenAPI 3.1 schema and against xvpsd's router.
//
//   node check.mjs OPENAPI_YAML ROUTES_TXT
//
// 1. @apidevtools/swagger-parser (pinned in package-lock.json) validates the document: the
//    OpenAPI 3.1 JSON schema, every $ref resolving, path parameters declared, unique
//    operationIds.
// 2. ROUTES_TXT holds "METHOD PATTERN" lines printed by routes_dump (panel/routes.c's table,
//    "{}" = one path segment). Every documented operation's full path (the path item's own
//    server URL, else the document's, then the path; "{name}" normalised to "{}") must be a
//    route, and every route a documented operation. Any difference fails, naming each one.
import { readFileSync } from 'node:fs';
import SwaggerParser from '@apidevtools/swagger-parser';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

const [yamlPath, routesPath] = process.argv.slice(2);
if (!yamlPath || !routesPath) {
	console.error('usage: node check.mjs OPENAPI_YAML ROUTES_TXT');
	process.exit(2);
}

let failed = false;
const fail = (msg) => {
	console.error(`openapi: FAIL ${msg}`);
	failed = true;
};

// (1) The validator. validate() dereferences the object it is given, so parse it afresh after.
try {
	await SwaggerParser.validate(yamlPath);
	console.log(`openapi: ${yamlPath} is a valid OpenAPI document`);
} catch (err) {
	fail(`${yamlPath} is not a valid OpenAPI document: ${err.message}`);
}
let doc;
try {
	doc = await SwaggerParser.parse(yamlPath);
} catch (err) {
	fail(`cannot parse ${yamlPath}: ${err.message}`);
	process.exit(1);
}
if (!String(doc.openapi || '').startsWith('3.1.')) fail(`openapi is "${doc.openapi}", not 3.1.x`);

// (2) The router against the document.
const base = (servers) => {
	const url = servers && servers.length ? servers[0].url : '';
	return url.replace(/\/+$/, '');
};
const documented = new Map(); // "METHOD /full/{}/path" -> "method /path as written"
for (const [path, item] of Object.entries(doc.paths || {})) {
	const full = (item.servers ? base(item.servers) : base(doc.servers)) + path;
	const norm = full.replace(/\{[^}/]+\}/g, '{}');
	for (const m of METHODS) {
		if (item[m]) documented.set(`${m.toUpperCase()} ${norm}`, `${m.toUpperCase()} ${full}`);
	}
}

const routes = new Set(
	readFileSync(routesPath, 'utf8')
		.split('\n')
		.map((l) => l.trim())
		.filter(Boolean),
);
if (routes.size === 0) fail(`${routesPath} lists no routes`);

for (const r of routes) {
	if (!documented.has(r))
		fail(`route "${r}" of panel/routes.c is not documented in ${yamlPath}`);
}
for (const [key, shown] of documented) {
	if (!routes.has(key))
		fail(`"${shown}" is documented in ${yamlPath} but the router has no route "${key}"`);
}
if (failed) process.exit(1);
console.log(`openapi: PASS ${routes.size} routes of the router = ${documented.size} documented operations`);
