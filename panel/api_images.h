/* api_images.h — templates imported from official cloud images (issue 16 item 7; api_images.c,
 * template_import.c) and what api_templates.c shares with them. */
#ifndef XVPS_PANEL_API_IMAGES_H
#define XVPS_PANEL_API_IMAGES_H

#include <json-c/json.h>
#include <stdint.h>

#include "http.h"

/* A POST /templates body, checked by api_templates_create (name, os, boot, seed, disk_gib). */
typedef struct template_new {
	const char *name, *os, *boot, *seed;
	int64_t disk_gib;
	const char *url, *file, *sha256; /* url or file: an import */
} template_new;

/* POST /templates with url or file: 202 {"template","job"} (template.import queued). */
void api_template_import(http_req *rq, const template_new *t);
void api_image_settings_get(http_req *rq); /* GET /settings/images (admin) */
void api_image_settings_put(http_req *rq); /* PUT /settings/images (admin) */

/* The template's JSON (api_templates.c), NULL when it does not exist. */
json_object *template_json(int64_t id);

#endif
