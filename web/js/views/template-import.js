// views/template-import.js — #/admin/templates, issue 16 item 7: import a vendor's qcow2 or raw
// cloud image as a template (POST /templates with url or file: a template.import job, followed
// in #template-import-job), and the import settings (GET/PUT /settings/images).
import { h } from '../dom.js';
import { api } from '../api.js';
import { buildForm, onSubmit } from '../forms.js';
import { notice } from '../ui.js';
import { watchJob } from '../jobs.js';

const FIELDS = [
  { name: 'name', label: 'Name', placeholder: 'debian-12-cloud' },
  { name: 'os', label: 'OS', placeholder: 'debian' },
  { name: 'disk_gib', label: 'Disk (GiB)', type: 'number', min: 1, value: 4,
    hint: 'At least the image\'s virtual size.' },
  { name: 'boot', label: 'Boot', type: 'select', value: 'hvm', options: [
    { value: 'hvm', label: 'HVM' }, { value: 'pvh', label: 'PVH (its kernel must allow)' },
    { value: 'pv', label: 'PV (pvgrub; its kernel must allow)' }] },
  { name: 'seed', label: 'Seed', type: 'select', value: 'nocloud', options: [
    { value: 'nocloud', label: 'cloud-init (NoCloud)' }, { value: 'xvps', label: 'xvps guest' }] },
  { name: 'url', label: 'Image URL', optional: true, wide: true,
    placeholder: 'https://cloud.debian.org/images/cloud/bookworm/latest/debian-12-genericcloud-amd64.qcow2',
    hint: 'qcow2 or raw, https (http only when allowed below). Or give a file instead.' },
  { name: 'sha256', label: 'SHA-256', optional: true, wide: true, hint: 'Checked after the download (URL only).' },
  { name: 'file', label: 'Image file on the host', optional: true, wide: true,
    placeholder: '/var/lib/xvps/template-src/image.qcow2',
    hint: 'An absolute path inside the agent\'s template import directory.' },
];

const SETTINGS = [
  { name: 'allow_http', label: 'Allow http:// URLs', type: 'checkbox' },
  { name: 'max_gib', label: 'Largest download (GiB)', type: 'number', min: 1, max: 1024, value: 20 },
];

/** The import card; onChange() runs when an import was queued and when its job ends. */
export function templateImportCard(ctx, onChange) {
  const { scope } = ctx;
  const form = buildForm({ id: 'template-import-form', fields: FIELDS, submitLabel: 'Import image' });
  const status = h('div', { id: 'template-import-job', class: 'job-status', hidden: true, 'aria-live': 'polite' });
  const settings = buildForm({ id: 'image-settings-form', fields: SETTINGS, submitLabel: 'Save settings' });

  onSubmit(form, (body) => api.post('/templates', body), async (r) => {
    form.reset();
    notice(`Importing template ${r.template.name}.`);
    watchJob(scope, status, r.job, {
      label: `Import of ${r.template.name}`,
      onEnd: () => { if (scope.alive) onChange(); },
    });
    await onChange();
  });
  onSubmit(settings, (body) => api.put('/settings/images', body), () => notice('Image settings saved.'));
  api.get('/settings/images').then((s) => {
    if (!scope.alive) return;
    settings.elements.namedItem('allow_http').checked = !!s.allow_http;
    settings.elements.namedItem('max_gib').value = String(s.max_gib);
  }).catch(() => {});

  return h('details', { class: 'card create', id: 'template-import', open: true },
    h('summary', { class: 'card-title' }, 'Import a cloud image'), form, status,
    h('h3', null, 'Import settings'), settings);
}
